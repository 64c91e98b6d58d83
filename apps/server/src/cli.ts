#!/usr/bin/env node
/**
 * nucleon-server — the neutron-server equivalent.
 *
 *   nucleon-server --config-file etc/neutron.conf [--config-file more.conf]   serve the API
 *   nucleon-server db upgrade --config-file etc/neutron.conf                  apply migrations
 *   nucleon-server <plugin command> --config-file etc/neutron.conf            e.g. `dns reconcile` (l3-dns)
 */
import { parseArgs } from 'node:util';
import { Config, ConfigError, coreOptions, StartupError } from '@nucleon/core';
import { pino } from 'pino';
import { runCommand, serve, upgradeDatabase } from './serve.js';

const USAGE = `usage: nucleon-server [db upgrade | <plugin command> [options]] --config-file FILE [--config-file FILE ...]`;

/**
 * Failures that come from the environment the configuration points at (a port in use, an
 * address not on this host, an unreachable or misconfigured PostgreSQL): the operator's to fix,
 * so they get the message alone, as configuration errors do.
 */
const OPERATOR_ERRORS =
  /ECONNREFUSED|EADDRINUSE|EADDRNOTAVAIL|EACCES|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|password authentication|pg_hba\.conf|does not exist/;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // The command's words come first; its options are known once the configured plugins are loaded.
  const wordCount = argv.findIndex((arg) => arg.startsWith('-'));
  const words = (wordCount === -1 ? argv : argv.slice(0, wordCount)).join(' ');
  const rest = wordCount === -1 ? [] : argv.slice(wordCount);
  const { values } = parseArgs({
    args: rest,
    options: { 'config-file': { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
    // Strict for serving; a command's own options are checked by the command.
    strict: words === '',
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const files = (values['config-file'] as string[] | undefined) ?? [];
  if (files.length === 0) throw new StartupError(['no --config-file given', USAGE]);
  const config = await Config.load(files);
  const debug = config.check(coreOptions).length === 0 && config.get(coreOptions).DEFAULT.debug;
  // NUCLEON_LOG_LEVEL (warn, error…) quiets the per-request info lines, e.g. for benchmarks.
  const level = debug ? 'debug' : (process.env.NUCLEON_LOG_LEVEL ?? 'info');
  // A plugin command's stdout is its result; its logs go to stderr.
  const pluginCommand = words !== '' && words !== 'db upgrade';
  const log = pino({ level, base: { pid: process.pid }, name: 'nucleon-server' }, pino.destination(pluginCommand ? 2 : 1));
  if (words === 'db upgrade') {
    const applied = await upgradeDatabase(config, log);
    log.info({ applied }, 'database is up to date');
    return;
  }
  if (pluginCommand) {
    const result = await runCommand(config, log, words, rest);
    log.info({ command: words, result }, 'command finished');
    if (result !== undefined) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  await serve(config, log);
}

main().catch((error: unknown) => {
  // Operator mistakes are reported as one readable message, without a stack trace.
  if (error instanceof StartupError) process.stderr.write(`${error.message}\n`);
  else if (error instanceof ConfigError)
    process.stderr.write(`Nucleon cannot start: bad configuration:\n${error.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  else if (error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`${error.message}\n${USAGE}\n`);
  } else if (error instanceof Error && OPERATOR_ERRORS.test(error.message)) {
    process.stderr.write(`Nucleon cannot start: ${error.message}\n`);
  } else {
    process.stderr.write(`Nucleon failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
