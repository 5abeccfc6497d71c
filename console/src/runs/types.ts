/** The API answers the runs and job pages read, named once (types come from the generated schema). */
import type { ApiData } from '../api/types';

export type JobDetail = ApiData<
  '/api/v1beta1/project/{project}/namespace/{namespace}/job/{job}',
  'get'
>['job'];
export type RunGraphView = JobDetail['run_graph'];
export type GraphEdge = RunGraphView['edges'][number];
export type EdgeOrigin = GraphEdge['origin'];
export type Run = ApiData<'/api/v1beta1/project/{project}/job/{job}/run/{id}', 'get'>['run'];
export type RunNode = Run['nodes'][number];
export type Attempt = RunNode['attempts'][number];
export type LogLine = ApiData<
  '/api/v1beta1/project/{project}/job/{job}/run/{id}/logs',
  'get'
>['lines'][number];
