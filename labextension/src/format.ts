/**
 * Number, money, percentage and time formatting for the panel (pure: no DOM, no JupyterLab).
 */

const LOCALE = 'en-US';

function currencyFormatter(
  currency: string,
  digits: number,
  compact = false
): Intl.NumberFormat | null {
  try {
    return new Intl.NumberFormat(LOCALE, {
      style: 'currency',
      currency,
      minimumFractionDigits: compact ? 0 : digits,
      maximumFractionDigits: digits,
      notation: compact ? 'compact' : 'standard'
    });
  } catch {
    return null; // not an ISO 4217 code
  }
}

/**
 * An amount of money with two decimals and the currency's symbol ("$1,234.57").
 *
 * Non-zero amounts that would round to zero show as "<$0.01" so small spend never reads as none;
 * an unknown currency code falls back to "12.34 XYZ"; a non-finite amount is a dash.
 */
export function formatMoney(amount: number, currency: string): string {
  if (!Number.isFinite(amount)) {
    return '–';
  }
  const formatter = currencyFormatter(currency, 2);
  const format = (value: number): string =>
    formatter ? formatter.format(value) : `${value.toFixed(2)} ${currency}`;
  const size = Math.abs(amount);
  if (size > 0 && size < 0.005) {
    return `${amount < 0 ? '>-' : '<'}${format(0.01)}`;
  }
  return format(amount);
}

/**
 * A short amount for chart labels: "$0.59", "$12", "$1.2K".
 */
export function formatMoneyShort(amount: number, currency: string): string {
  if (!Number.isFinite(amount)) {
    return '–';
  }
  const size = Math.abs(amount);
  const formatter =
    size >= 10000
      ? currencyFormatter(currency, 1, true)
      : currencyFormatter(currency, size >= 10 ? 0 : 2);
  if (!formatter) {
    return `${amount.toFixed(size >= 10 ? 0 : 2)} ${currency}`;
  }
  return formatter.format(amount);
}

/**
 * A fraction as a whole percentage ("29%"); null or non-finite is a dash. Values above 100% stay
 * (usage above the request).
 */
export function formatPercent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) {
    return '–';
  }
  return `${Math.round(fraction * 100)}%`;
}

/**
 * Efficiency (usage over request): "n/a" when unknown, as where nothing was requested (a local
 * server) — never a full bar for a server that requested nothing.
 */
export function formatEfficiency(fraction: number | null | undefined): string {
  const known = fraction !== null && fraction !== undefined && Number.isFinite(fraction);
  return known ? formatPercent(fraction) : 'n/a';
}

/** The smallest top of the daily chart's axis: a day under a cent is a sliver, not a full bar. */
export const MIN_CHART_SCALE = 0.01;

/**
 * The top of the daily chart's axis for a largest day of `max`: the next 1, 2 or 5 times a power
 * of ten at or above it, at least a cent; 0 when nothing was spent.
 */
export function chartScale(max: number): number {
  if (!Number.isFinite(max) || max <= 0) {
    return 0;
  }
  const target = Math.max(max, MIN_CHART_SCALE);
  const power = 10 ** Math.floor(Math.log10(target));
  for (const step of [1, 2, 5, 10]) {
    const top = Number((step * power).toPrecision(12)); // no 0.30000000000000004
    if (top >= target * (1 - 1e-9)) {
      return top;
    }
  }
  return 10 * power;
}

/**
 * The label over the daily chart: its scale ("$0.01 / day"), or that nothing was spent.
 */
export function chartScaleLabel(max: number, currency: string): string {
  const top = chartScale(max);
  return top > 0 ? `scale ${formatMoneyShort(top, currency)} / day` : 'nothing spent';
}

/**
 * A calendar day ("2025-03-01") as "Mar 1", read in UTC like the backends' daily sets.
 */
export function formatDay(isoDate: string): string {
  const day = new Date(`${isoDate}T00:00:00Z`);
  if (Number.isNaN(day.getTime())) {
    return isoDate;
  }
  return day.toLocaleDateString(LOCALE, { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/**
 * How long ago an ISO-8601 time was ("just now", "5 min ago", "3 h ago", "2 days ago").
 */
export function formatAge(iso: string | null | undefined, nowMs: number = Date.now()): string {
  const then = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(then)) {
    return 'unknown';
  }
  const seconds = Math.max(0, Math.round((nowMs - then) / 1000));
  if (seconds < 45) {
    return 'just now';
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 24) {
    return `${hours} h ago`;
  }
  const days = Math.round(hours / 24);
  return days === 1 ? '1 day ago' : `${days} days ago`;
}

/**
 * A finite number from an unknown JSON value, else 0.
 */
export function toNumber(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
