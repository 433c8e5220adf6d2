/**
 * The JSON shapes of the remote-dev endpoints the panel reads (docs: internal contracts).
 */

export interface INotConfigured {
  configured: false;
  message: string;
}

export type BreakdownPart =
  'cpu' | 'ram' | 'gpu' | 'pv' | 'network' | 'load_balancer' | 'shared' | 'external';

export interface ICostReport {
  configured: true;
  user: string;
  window: string;
  currency: string;
  total: number;
  breakdown: Partial<Record<BreakdownPart, number>>;
  efficiency: number | null;
  daily: { date: string; total: number }[];
  includes_ray: boolean;
  /** A line to show with the figures, e.g. that they are a local estimate (cost_estimate_note). */
  note?: string | null;
  source: string;
  updated_at: string;
}

export interface IGitCycle {
  started_at: string | null;
  finished_at: string | null;
  result: 'ok' | 'conflict' | 'error';
  message: string | null;
}

export interface IGitStatus {
  configured: true;
  repo: string | null;
  workspace: string | null;
  branch: string | null;
  upstream: string | null;
  ahead: number;
  behind: number;
  running: boolean;
  last_cycle: IGitCycle | null;
  conflicts: { path: string; kept_at: string }[];
  skipped: { path: string; size: number; reason: string }[];
}

export interface IRayInfo {
  configured: true;
  /** "starting" while the one-machine hub's Ray head boots */
  state?: 'not-configured' | 'starting' | 'reachable' | 'unreachable';
  address: string | null;
  dashboard_url: string | null;
  proxied_dashboard_url: string | null;
  reachable: boolean;
  cluster_ray_version: string | null;
  local_ray_version: string | null;
  local_python_version: string | null;
  mismatch: boolean;
  message: string;
}

export interface IRayJob {
  job_id: string | null;
  submission_id: string | null;
  status: string;
  entrypoint: string;
  start_time: number | string | null;
  end_time: number | string | null;
}

export type Maybe<T> = T | INotConfigured;

/** GET cost/budget: this server's user's budget, from the spend view (docs/budgets.md). */
export interface IBudgetAlert {
  at: string;
  level: string;
  message: string;
}

export interface IBudgetStatus {
  configured: true;
  currency: string;
  source: 'user' | 'group' | 'default';
  source_name: string | null;
  amount: number;
  period: 'month' | 'week';
  period_start: string;
  period_end: string;
  spent: number;
  projected: number;
  percent: number | null;
  state: 'on_track' | 'will_exceed' | 'exceeded';
  exceeds_on: string | null;
  line: string;
  /** This period's alerts, newest first. */
  alerts: IBudgetAlert[];
  hints: { name: string; unused: number; message: string }[];
}
