/**
 * Unit tests of the budget line's words and of which alerts are news (node --test).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { budgetLine, budgetState, formatExceedDay, newAlerts } from '../src/budgettext';
import { IBudgetStatus } from '../src/types';

const BASE: IBudgetStatus = {
  configured: true,
  currency: 'USD',
  source: 'group',
  source_name: 'team-a',
  amount: 200,
  period: 'month',
  period_start: '2026-12-01T00:00:00+00:00',
  period_end: '2027-01-01T00:00:00+00:00',
  spent: 42,
  projected: 150,
  percent: 21,
  state: 'on_track',
  exceeds_on: null,
  line: '',
  alerts: [],
  hints: []
};

void describe('budget line', () => {
  void it('says what was spent of how much in which period', () => {
    assert.equal(budgetLine(BASE), '$42.00 of $200.00 this month');
    assert.equal(
      budgetLine({ ...BASE, period: 'week', currency: 'EUR' }),
      '€42.00 of €200.00 this week'
    );
  });
  void it('states on track, will exceed around a day, or exceeded', () => {
    assert.equal(budgetState(BASE), 'on track ($150.00 projected)');
    const soon = { ...BASE, state: 'will_exceed' as const, exceeds_on: '2026-12-12' };
    assert.equal(budgetState(soon), 'will exceed around 12 December');
    assert.equal(budgetState({ ...BASE, state: 'exceeded' as const }), 'exceeded');
    assert.equal(formatExceedDay('not a day'), 'not a day');
  });
});

void describe('new alerts', () => {
  const a50 = { at: '2026-12-03T10:00:00+00:00', level: '50', message: 'half' };
  const a80 = { at: '2026-12-05T10:00:00+00:00', level: '80', message: 'most' };
  const a100 = { at: '2026-12-06T10:00:00+00:00', level: '100', message: 'all' };
  void it('shows every alert, oldest first, when none was seen', () => {
    assert.deepEqual(newAlerts([a80, a50], null), [a50, a80]);
    assert.deepEqual(newAlerts([], null), []);
  });
  void it('shows only alerts newer than the one seen, and none twice', () => {
    assert.deepEqual(newAlerts([a100, a80, a50], `${a80.at}|80`), [a100]);
    assert.deepEqual(newAlerts([a100, a80, a50], `${a100.at}|100`), []);
  });
  void it('shows a new period alert even when the seen one is gone', () => {
    assert.deepEqual(newAlerts([a100], `${a50.at}|50`), [a100]);
    assert.deepEqual(newAlerts([a50], `${a100.at}|100`), []);
  });
});
