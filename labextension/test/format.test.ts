/**
 * Unit tests of the panel's number, money, percentage and time formatting (node --test).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { clipped } from '../src/dom';
import {
  chartScale,
  chartScaleLabel,
  formatAge,
  formatDay,
  formatEfficiency,
  formatMoney,
  formatMoneyShort,
  formatPercent,
  toNumber
} from '../src/format';

void describe('formatMoney', () => {
  void it('shows two decimals, the symbol and grouping', () => {
    assert.equal(formatMoney(0.97766, 'USD'), '$0.98');
    assert.equal(formatMoney(1234.5, 'USD'), '$1,234.50');
    assert.equal(formatMoney(0, 'USD'), '$0.00');
    assert.equal(formatMoney(-3.2, 'USD'), '-$3.20');
  });
  void it('never shows a small non-zero amount as zero', () => {
    assert.equal(formatMoney(0.0004, 'USD'), '<$0.01');
    assert.equal(formatMoney(-0.0004, 'USD'), '>-$0.01');
    assert.equal(formatMoney(0.005, 'USD'), '$0.01');
  });
  void it('uses the configured currency and survives an unknown code', () => {
    assert.equal(formatMoney(12.5, 'EUR'), '€12.50');
    assert.equal(formatMoney(12.5, 'not a code'), '12.50 not a code');
  });
  void it('shows a dash for non-finite amounts', () => {
    assert.equal(formatMoney(Number.NaN, 'USD'), '–');
    assert.equal(formatMoney(Number.POSITIVE_INFINITY, 'USD'), '–');
  });
});

void describe('formatMoneyShort', () => {
  void it('shortens chart labels by size', () => {
    assert.equal(formatMoneyShort(0.5866, 'USD'), '$0.59');
    assert.equal(formatMoneyShort(64.23, 'USD'), '$64');
    assert.equal(formatMoneyShort(12345, 'USD'), '$12.3K');
    assert.equal(formatMoneyShort(Number.NaN, 'USD'), '–');
  });
});

void describe('formatPercent', () => {
  void it('rounds to whole percent and keeps values above 100%', () => {
    assert.equal(formatPercent(0.29363), '29%');
    assert.equal(formatPercent(0), '0%');
    assert.equal(formatPercent(1.25), '125%');
  });
  void it('shows a dash when efficiency is unknown', () => {
    assert.equal(formatPercent(null), '–');
    assert.equal(formatPercent(undefined), '–');
    assert.equal(formatPercent(Number.NaN), '–');
  });
});

void describe('formatDay and formatAge', () => {
  void it('reads days in UTC', () => {
    assert.equal(formatDay('2025-03-01'), 'Mar 1');
    assert.equal(formatDay('not a date'), 'not a date');
  });
  void it('says how long ago', () => {
    const now = Date.parse('2026-11-26T10:00:00Z');
    assert.equal(formatAge('2026-11-26T09:59:30+00:00', now), 'just now');
    assert.equal(formatAge('2026-11-26T09:55:00Z', now), '5 min ago');
    assert.equal(formatAge('2026-11-26T07:00:00Z', now), '3 h ago');
    assert.equal(formatAge('2026-11-25T10:00:00Z', now), '1 day ago');
    assert.equal(formatAge('2026-11-20T10:00:00Z', now), '6 days ago');
    assert.equal(formatAge(null, now), 'unknown');
    assert.equal(formatAge('garbage', now), 'unknown');
  });
});

void describe('toNumber', () => {
  void it('keeps finite numbers and zeroes anything else', () => {
    assert.equal(toNumber(2.5), 2.5);
    assert.equal(toNumber(null), 0);
    assert.equal(toNumber('3'), 0);
    assert.equal(toNumber(Number.NaN), 0);
  });
});

void describe('chartScale and chartScaleLabel', () => {
  void it('never labels a full bar "$0.00": a day under a cent sits on a one-cent scale', () => {
    assert.equal(chartScale(0.0004), 0.01);
    assert.equal(chartScaleLabel(0.0004, 'USD'), 'scale $0.01 / day');
    assert.ok(0.0004 / chartScale(0.0004) < 0.05); // a sliver, not a full-height bar
  });
  void it('rounds the top up to 1, 2 or 5 times a power of ten', () => {
    assert.equal(chartScale(0.01), 0.01);
    assert.equal(chartScale(0.012), 0.02);
    assert.equal(chartScale(0.3), 0.5);
    assert.equal(chartScale(0.5866), 1);
    assert.equal(chartScale(2), 2);
    assert.equal(chartScale(64.23), 100);
    assert.equal(chartScale(12345), 20000);
    assert.equal(chartScaleLabel(0.5866, 'USD'), 'scale $1.00 / day');
    assert.equal(chartScaleLabel(64.23, 'EUR'), 'scale €100 / day');
  });
  void it('has no scale when nothing was spent', () => {
    assert.equal(chartScale(0), 0);
    assert.equal(chartScale(Number.NaN), 0);
    assert.equal(chartScaleLabel(0, 'USD'), 'nothing spent');
  });
});

void describe('formatEfficiency', () => {
  void it('is n/a where nothing was requested, a percentage otherwise', () => {
    assert.equal(formatEfficiency(null), 'n/a');
    assert.equal(formatEfficiency(undefined), 'n/a');
    assert.equal(formatEfficiency(0), '0%');
    assert.equal(formatEfficiency(0.29363), '29%');
  });
});

void describe('clipped', () => {
  void it('keeps the whole text in the title of an ellipsised line', () => {
    const id = 'raysubmit_' + 'x'.repeat(80);
    assert.deepEqual(clipped(id, 'jp-RemoteDev-jobId'), {
      className: 'jp-RemoteDev-clip jp-RemoteDev-jobId',
      text: id,
      attrs: { title: id }
    });
    assert.equal(clipped('/home/alice/work').className, 'jp-RemoteDev-clip');
  });
});
