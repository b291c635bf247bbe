import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import pino from 'pino';

import { createLogDestination, type LogDestination } from '../../service/src/log-destination';

import { eventually } from './harness';

let directory: string;
let fd: number;
let file: string;
/** The test's destination: it owns `fd` once made, and is ended (closing it) after the test. */
let made: LogDestination | undefined;

function destinationOnFile(options: { bufferBytes: number; flushIntervalMs: number }) {
  made = createLogDestination({ fd, ...options });
  return made;
}

beforeEach(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'log-destination-'));
  file = path.join(directory, 'stdout.log');
  fd = openSync(file, 'w');
  made = undefined;
});

afterEach(async () => {
  if (made) {
    // Ended, not just closed: its periodic flush and any write still in flight must be over
    // before the file goes, or they would write to a closed (or reused) descriptor later.
    const { stream } = made as unknown as { stream: NodeJS.EventEmitter & { end(): void } };
    await new Promise((resolve) => {
      stream.once('close', resolve);
      stream.end();
    });
  } else {
    closeSync(fd);
  }
  rmSync(directory, { recursive: true, force: true });
});

const written = (): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);

test('lines are held until a buffer of them has gathered: no write per line', async () => {
  // GIVEN a logger on a destination holding 4 KiB, flushed only every minute
  const destination = destinationOnFile({ bufferBytes: 4096, flushIntervalMs: 60_000 });
  const log = pino(destination.stream);
  try {
    // WHEN 10 short lines are logged and the event loop has turned a few times
    for (let index = 0; index < 10; index += 1) log.info({ index }, 'request completed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    // THEN nothing has been written yet
    expect(written()).toEqual([]);
    // WHEN lines past the buffer size are logged
    for (let index = 10; index < 60; index += 1) log.info({ index }, 'request completed');
    // THEN they are written, in order, in a few writes
    const lines = await eventually(
      () => Promise.resolve(written()),
      (found) => found.length > 0,
    );
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.map((line) => (JSON.parse(line) as { index: number }).index)).toEqual(
      Array.from({ length: lines.length }, (_, index) => index),
    );
  } finally {
    destination.close();
  }
});

test('a quiet logger still writes its lines within the flush interval', async () => {
  // GIVEN a destination holding 4 KiB, flushed every 50 ms
  const destination = destinationOnFile({ bufferBytes: 4096, flushIntervalMs: 50 });
  try {
    // WHEN one line is logged and nothing else happens
    pino(destination.stream).info('shutting down');
    // THEN the timer writes it
    const lines = await eventually(
      () => Promise.resolve(written()),
      (found) => found.length === 1,
    );
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'shutting down',
    ]);
  } finally {
    destination.close();
  }
});

test('close() writes what is held at once', () => {
  // GIVEN lines held in the buffer
  const destination = destinationOnFile({ bufferBytes: 4096, flushIntervalMs: 60_000 });
  const log = pino(destination.stream);
  log.info('one');
  log.info('two');
  // WHEN the destination is closed (the service's onClose)
  destination.close();
  // THEN both lines are in the file before close() returns
  expect(written().map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
    'one',
    'two',
  ]);
});

test.each([
  [{ bufferBytes: -1 }, /bufferBytes must be a whole number from 0 to 65536, got -1/],
  [{ bufferBytes: 100_000 }, /bufferBytes must be a whole number from 0 to 65536, got 100000/],
  [{ flushIntervalMs: 0 }, /flushIntervalMs must be a whole number of at least 1, got 0/],
  [{ fd: -2 }, /fd must be a file descriptor .* got -2/],
])('refuses %p with a message naming what is allowed', (options, message) => {
  expect(() => createLogDestination(options)).toThrow(message);
});
