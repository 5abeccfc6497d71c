/** Links to the run and job pages (ui/links.ts builds the routes) and the runs API path. */
import { href } from '../ui/links';

const e = encodeURIComponent;

export const runHref = (project: string, job: string, id: number) => `#${href.run(project, job, id)}`;
export const jobPageHref = (project: string, namespace: string, job: string) =>
  `#${href.job(project, namespace, job)}`;
/** The API path of a job's runs (and, with `/id…`, of one run). */
export const runsApiPath = (project: string, job: string) =>
  `/api/v1beta1/project/${e(project)}/job/${e(job)}/run`;
