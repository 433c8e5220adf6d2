/**
 * The budget line's words, and which alerts are news (pure, tested with node --test).
 */

import { formatMoney } from './format';
import { IBudgetAlert, IBudgetStatus } from './types';

/** "$42.00 of $200.00 this month" */
export function budgetLine(budget: IBudgetStatus): string {
  const spent = formatMoney(budget.spent, budget.currency);
  const amount = formatMoney(budget.amount, budget.currency);
  return `${spent} of ${amount} this ${budget.period}`;
}

/** "on track ($150.00 projected)", "will exceed around 12 December", "exceeded" */
export function budgetState(budget: IBudgetStatus): string {
  if (budget.state === 'exceeded') {
    return 'exceeded';
  }
  if (budget.state === 'will_exceed') {
    const day = budget.exceeds_on ? formatExceedDay(budget.exceeds_on) : 'the end';
    return `will exceed around ${day}`;
  }
  return `on track (${formatMoney(budget.projected, budget.currency)} projected)`;
}

/** "2026-12-12" as "12 December" (UTC, the budget periods' time zone). */
export function formatExceedDay(isoDate: string): string {
  const date = new Date(`${isoDate}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) {
    return isoDate;
  }
  return date.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', timeZone: 'UTC' });
}

/** A stable key per alert (its time and level). */
export function alertKey(alert: IBudgetAlert): string {
  return `${alert.at}|${alert.level}`;
}

/**
 * The alerts (newest first) not yet shown: those newer than ``seen`` (the key of the newest one
 * shown before), oldest first; all of them when nothing was seen.
 */
export function newAlerts(alerts: IBudgetAlert[], seen: string | null): IBudgetAlert[] {
  const fresh: IBudgetAlert[] = [];
  for (const alert of alerts) {
    if (alertKey(alert) === seen || (seen !== null && alert.at < seen.split('|')[0])) {
      break;
    }
    fresh.push(alert);
  }
  return fresh.reverse();
}
