import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareVersions, kernelSeries } from '../../jobs/kernel/version.ts';

test('versions compare by number, not by text: rustc 1.100 is newer than 1.99', () => {
  assert.ok(compareVersions('1.100.0', '1.99.0') > 0);
  assert.ok(compareVersions('1.99', '1.100') < 0);
  assert.ok(compareVersions('6.10', '6.9.12') > 0);
  assert.equal(compareVersions('6.1', '6.1.0'), 0);
  assert.deepEqual(['6.10.1', '6.1.192', '6.6.10'].sort(compareVersions), ['6.1.192', '6.6.10', '6.10.1']);
});

test('the kernel series is the first two parts of a version', () => {
  assert.equal(kernelSeries('6.1.192'), '6.1');
  assert.equal(kernelSeries('6.12'), '6.12');
});
