/** The frame of every page: a skip link, the header with the navigation and the session, the page. */
import type { ReactNode } from 'react';
import { Link, useLocation } from 'wouter';
import { useSession } from '../session';

const NAV: { href: string; label: string; match: RegExp }[] = [
  { href: '/jobs', label: 'Jobs', match: /^\/(jobs)?(\/|$)/ },
  { href: '/runs', label: 'Runs', match: /^\/runs(\/|$)/ },
  { href: '/plugins', label: 'Plugins', match: /^\/plugins(\/|$)/ },
  { href: '/projects', label: 'Projects', match: /^\/projects(\/|$)/ },
  { href: '/deploys', label: 'Deploys', match: /^\/deploys(\/|$)/ },
];

export function Layout({ children }: { children: ReactNode }) {
  const [location] = useLocation();
  const session = useSession();
  return (
    <>
      <button type="button" className="skip-link" onClick={skipToMain}>
        Skip to content
      </button>
      <header className="top">
        <Link href="/jobs" className="brand" aria-label="Optimus: jobs">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>
          Optimus
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.href}>
                <Link href={n.href} aria-current={n.match.test(location) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="session">
          {!session.canWrite && (
            <span className="tag" title="This token may look but not change anything">
              read-only
            </span>
          )}
          {session.authRequired && (
            <button type="button" className="button link" onClick={session.signOut}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

/** A button, not a `#main` link: the hash is the router's. */
function skipToMain() {
  document.getElementById('main')?.focus();
}

/** A page's title row: the heading, an optional line under it, and actions on the right. */
export function PageHeader({
  title,
  subtitle,
  crumbs,
  actions,
}: {
  title: ReactNode;
  subtitle?: ReactNode;
  crumbs?: { href: string; label: string }[];
  actions?: ReactNode;
}) {
  return (
    <div className="page-header">
      <div>
        {crumbs && crumbs.length > 0 && (
          <nav aria-label="Breadcrumb" className="crumbs">
            <ol>
              {crumbs.map((c) => (
                <li key={c.href}>
                  <Link href={c.href}>{c.label}</Link>
                </li>
              ))}
            </ol>
          </nav>
        )}
        <h1>{title}</h1>
        {subtitle && <p className="muted">{subtitle}</p>}
      </div>
      {actions && <div className="actions">{actions}</div>}
    </div>
  );
}
