#!/usr/bin/env node
// Fails when a publishable package changed what it ships since its last version bump and no
// pending changeset (.changeset/*.md) names it.
//
// For each package the base is the last commit that changed the "version" line of its
// package.json (`pnpm version-packages` does that, consuming the changesets); what ships is its
// src/ (tests aside), drizzle/ (migrations), etc/ (sample configs), README.md, LICENSE, and the
// package.json fields npm installs by (dependencies, peerDependencies, exports, bin, files,
// engines, type). Run from anywhere in the repository: node .ci/check-changesets.mjs
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();

const SHIPPED_FIELDS = ['dependencies', 'peerDependencies', 'exports', 'bin', 'files', 'engines', 'type'];
const shipsFile = (path) => (/^(src|drizzle|etc)\//.test(path) ? !/\.test\.ts$/.test(path) : path === 'README.md' || path === 'LICENSE');

/** Workspace packages that publish: every package.json under packages/, plugins/ and apps/ not marked private. */
function publishablePackages() {
  return ['packages', 'plugins', 'apps'].flatMap((group) =>
    existsSync(join(root, group))
      ? readdirSync(join(root, group))
          .map((name) => join(group, name))
          .filter((dir) => existsSync(join(root, dir, 'package.json')))
          .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) }))
          .filter(({ manifest }) => !manifest.private)
      : [],
  );
}

/** Package names the pending changesets release, from their front matter. */
function pendingReleases() {
  const folder = join(root, '.changeset');
  const names = new Set();
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
    const match = /^---\r?\n([\s\S]*?)\r?\n---/.exec(readFileSync(join(folder, file), 'utf8'));
    if (!match) throw new Error(`.changeset/${file} has no front matter`);
    for (const line of match[1].split(/\r?\n/)) {
      const entry = /^\s*["']?([^"':]+)["']?\s*:\s*(major|minor|patch)\s*$/.exec(line);
      if (entry) names.add(entry[1]);
      else if (line.trim() !== '') throw new Error(`.changeset/${file}: cannot read '${line}'`);
    }
  }
  return names;
}

/** The last commit that changed the package's version (or created its package.json). */
function baseOf(dir) {
  const bumped = git('log', '-1', '--format=%H', '-G', '"version":', '--', `${dir}/package.json`);
  return bumped || git('log', '--diff-filter=A', '--format=%H', '--', `${dir}/package.json`).split('\n').pop();
}

function shippedFieldsChanged(dir, base) {
  let before;
  try {
    before = JSON.parse(git('show', `${base}:${dir}/package.json`));
  } catch {
    return [];
  }
  const now = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  return SHIPPED_FIELDS.filter((field) => JSON.stringify(before[field]) !== JSON.stringify(now[field])).map((f) => `package.json ${f}`);
}

const pending = pendingReleases();
const packages = publishablePackages();
const known = new Set(packages.map((p) => p.manifest.name));
const problems = [...pending]
  .filter((name) => !known.has(name))
  .map((name) => `a changeset names ${name}, which is not a publishable package here`);
for (const { dir, manifest } of packages) {
  const base = baseOf(dir);
  const files = git('diff', '--name-only', base, 'HEAD', '--', dir)
    .split('\n')
    .filter(Boolean)
    .map((path) => path.slice(dir.length + 1))
    .filter(shipsFile);
  const changed = [...files, ...shippedFieldsChanged(dir, base)];
  const status =
    changed.length === 0 ? 'unchanged' : pending.has(manifest.name) ? 'changed, has a changeset' : 'CHANGED WITHOUT A CHANGESET';
  console.log(`${manifest.name}@${manifest.version} (since ${base.slice(0, 8)}): ${status}`);
  if (changed.length > 0 && !pending.has(manifest.name)) {
    problems.push(
      `${manifest.name} changed since ${manifest.version} (${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''}) without a changeset: run pnpm changeset`,
    );
  }
}
if (problems.length > 0) {
  console.error(problems.map((p) => `✗ ${p}`).join('\n'));
  process.exit(1);
}
console.log('every changed package has a changeset');
