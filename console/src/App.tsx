/**
 * The console's pages, routed by the URL's hash (`#/jobs/…`), so the server needs no fallback
 * route. Heavy pages (graphs, runs) load on first visit: the first load stays small. A page for
 * one thing is keyed by its names, so going to another starts it afresh (never showing the last
 * one's data while the next loads).
 */
import { lazy, type ReactNode, Suspense, useEffect } from 'react';
import { Redirect, Route, Router, Switch } from 'wouter';
import { useHashLocation } from 'wouter/use-hash-location';
import DeploysPage from './pages/DeploysPage';
import JobsPage from './pages/JobsPage';
import PluginPage from './pages/PluginPage';
import PluginsPage from './pages/PluginsPage';
import ProjectsPage from './pages/ProjectsPage';
import { SessionProvider } from './session';
import { Layout } from './ui/Layout';
import { Empty, Loading } from './ui/states';

const JobPage = lazy(() => import('./pages/JobPage'));
const RunsPage = lazy(() => import('./pages/RunsPage'));
const RunPage = lazy(() => import('./pages/RunPage'));

export function App() {
  return (
    <SessionProvider>
      <Router hook={useHashLocation}>
        <Layout>
          <Suspense fallback={<Loading what="the page" />}>
            <Switch>
              <Route path="/">
                <Redirect to="/jobs" replace />
              </Route>
              <Route path="/jobs">
                <Titled title="Jobs">
                  <JobsPage />
                </Titled>
              </Route>
              <Route<{
                project: string;
                namespace: string;
                job: string;
              }> path="/jobs/:project/:namespace/:job">
                {(p) => (
                  <Titled title={p.job}>
                    <JobPage
                      key={`${p.project}/${p.namespace}/${p.job}`}
                      project={p.project}
                      namespace={p.namespace}
                      job={p.job}
                    />
                  </Titled>
                )}
              </Route>
              <Route path="/runs">
                <Titled title="Runs">
                  <RunsPage />
                </Titled>
              </Route>
              <Route<{ project: string; job: string; id: string }> path="/runs/:project/:job/:id">
                {(p) => (
                  <Titled title={`Run ${p.id} of ${p.job}`}>
                    <RunPage
                      key={`${p.project}/${p.job}/${p.id}`}
                      project={p.project}
                      job={p.job}
                      id={Number(p.id)}
                    />
                  </Titled>
                )}
              </Route>
              <Route path="/plugins">
                <Titled title="Plugins">
                  <PluginsPage />
                </Titled>
              </Route>
              <Route<{ name: string }> path="/plugins/:name">
                {(p) => (
                  <Titled title={p.name}>
                    <PluginPage key={p.name} name={p.name} />
                  </Titled>
                )}
              </Route>
              <Route path="/projects">
                <Titled title="Projects">
                  <ProjectsPage />
                </Titled>
              </Route>
              <Route path="/deploys">
                <Titled title="Deploys">
                  <DeploysPage />
                </Titled>
              </Route>
              <Route>
                <Titled title="Not found">
                  <Empty>
                    There is no page here. Go to <a href="#/jobs">the jobs</a>.
                  </Empty>
                </Titled>
              </Route>
            </Switch>
          </Suspense>
        </Layout>
      </Router>
    </SessionProvider>
  );
}

/** Names the browser tab after the page, so history and tabs are readable. */
function Titled({ title, children }: { title: string; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Optimus`;
  }, [title]);
  return <>{children}</>;
}
