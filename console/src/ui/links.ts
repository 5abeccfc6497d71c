/** The console's own URLs (hash routes), built in one place so every page links alike. */
const e = encodeURIComponent;

export const href = {
  job: (project: string, namespace: string, job: string) => `/jobs/${e(project)}/${e(namespace)}/${e(job)}`,
  run: (project: string, job: string, id: number) => `/runs/${e(project)}/${e(job)}/${id}`,
  plugin: (name: string) => `/plugins/${e(name)}`,
};
