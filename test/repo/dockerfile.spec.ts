/**
 * Static checks of Dockerfile and .dockerignore: everything that can be verified without a
 * Docker engine. The Dockerfile is parsed with dockerfile-ast; .dockerignore is matched with the
 * rules Docker applies (patterns relative to the context root, `**` for any depth, a pattern
 * that matches a directory excludes its contents, `!` re-includes, the last matching line wins).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import {
  Add,
  Copy,
  DockerfileParser,
  Env,
  JSONInstruction,
  type Dockerfile,
  type ImageTemplate,
  type Instruction,
} from 'dockerfile-ast';

const repoRoot = join(__dirname, '..', '..');
const dockerfile = DockerfileParser.parse(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const dockerignore = parseDockerignore(readFileSync(join(repoRoot, '.dockerignore'), 'utf8'));

// ---------------------------------------------------------------------------------------------
// Dockerfile helpers

interface Stage {
  name: string | null;
  /** FROM image with build ARGs declared before the first FROM substituted. */
  image: string;
  template: ImageTemplate;
}

function stagesOf(file: Dockerfile): Stage[] {
  return file.getFROMs().map((from) => {
    const template = file.getContainingImage(from.getRange().start);
    if (template === null) throw new Error(`no build stage contains ${from.toString()}`);
    const image = from.getExpandedArguments()[0]?.getValue() ?? '';
    return { name: from.getBuildStage(), image, template };
  });
}

const stages = stagesOf(dockerfile);

function stage(name: string): ImageTemplate {
  const found = stages.find((s) => s.name === name);
  if (found === undefined) throw new Error(`Dockerfile has no stage named "${name}"`);
  return found.template;
}

function instructions(template: ImageTemplate, keyword: string): Instruction[] {
  return template.getInstructions().filter((i) => i.getKeyword() === keyword);
}

function last<T>(items: T[], what: string): T {
  if (items.length === 0) throw new Error(`expected at least one ${what}`);
  return items[items.length - 1];
}

/** The array of an exec-form (JSON) instruction, or null when it uses the shell form. */
function execForm(instruction: Instruction): string[] | null {
  if (!(instruction instanceof JSONInstruction)) return null;
  if (instruction.getOpeningBracket() === null || instruction.getClosingBracket() === null) {
    return null;
  }
  return instruction.getJSONStrings().map((s) => s.getJSONValue());
}

interface CopySpec {
  keyword: string;
  /** Value of --from, or null when copying from the build context. */
  from: string | null;
  sources: string[];
  destination: string;
}

function copiesOf(template: ImageTemplate): CopySpec[] {
  return template
    .getInstructions()
    .filter((i): i is Copy | Add => i instanceof Copy || i instanceof Add)
    .map((instruction) => {
      const from = instruction.getFlags().find((f) => f.getName() === 'from');
      const json = execForm(instruction);
      const args = json ?? instruction.getArguments().map((a) => a.getValue());
      return {
        keyword: instruction.getKeyword(),
        from: from?.getValue() ?? null,
        sources: args.slice(0, -1),
        destination: args[args.length - 1] ?? '',
      };
    });
}

function runCommands(template: ImageTemplate): string[] {
  return instructions(template, 'RUN').map((r) => r.getArgumentsContent() ?? '');
}

function envValue(template: ImageTemplate, name: string): string | null | undefined {
  const values = template
    .getInstructions()
    .filter((i): i is Env => i instanceof Env)
    .flatMap((env) => env.getProperties())
    .filter((p) => p.getName() === name)
    .map((p) => p.getValue());
  return values.length === 0 ? undefined : values[values.length - 1];
}

// ---------------------------------------------------------------------------------------------
// .dockerignore matching (moby/patternmatcher semantics, enough for the patterns used here)

interface IgnoreRule {
  pattern: string;
  negated: boolean;
  regex: RegExp;
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++;
        // `**` at the end matches everything below; elsewhere it matches any number of dirs.
        source += i + 1 >= pattern.length ? '.*' : '(?:.*/)?';
      } else {
        source += '[^/]*';
      }
    } else if (ch === '?') {
      source += '[^/]';
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) throw new Error(`unterminated character class in "${pattern}"`);
      source += '[' + pattern.slice(i + 1, end).replace(/^!/, '^') + ']';
      i = end;
    } else if (ch === '\\' && i + 1 < pattern.length) {
      i++;
      source += pattern[i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else {
      source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const raw = negated ? line.slice(1).trim() : line;
      const pattern = posix.normalize(raw).replace(/^\/+/, '').replace(/\/+$/, '');
      return { pattern, negated, regex: globToRegExp(pattern) };
    });
}

/** Whether a context-relative path (posix separators) is left out of the build context. */
function isExcluded(rules: IgnoreRule[], path: string): boolean {
  const parts = posix
    .normalize(path)
    .replace(/^\.?\/+/, '')
    .split('/');
  const candidates = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
  let excluded = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.regex.test(candidate))) excluded = !rule.negated;
  }
  return excluded;
}

/** Repository files (context-relative), skipping directories that are never part of a build. */
function repoFiles(dir = ''): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      return ['node_modules', '.git', 'dist', 'coverage'].includes(entry.name)
        ? []
        : repoFiles(path);
    }
    return [path];
  });
}

// ---------------------------------------------------------------------------------------------

describe('Dockerfile', () => {
  it('has the stages deps, build, prod-deps and runtime, in that order', () => {
    expect(stages.map((s) => s.name)).toEqual(['deps', 'build', 'prod-deps', 'runtime']);
  });

  it('bases every stage on a slim node:22 image', () => {
    const earlierStages = new Set<string>();
    for (const { name, image } of stages) {
      if (!earlierStages.has(image)) {
        expect(image).toMatch(
          /^(?:(?:docker\.io\/)?library\/)?node:22(?:\.\d+){0,2}-(?:[a-z]+-)?slim(?:@sha256:[0-9a-f]{64})?$/,
        );
      }
      if (name !== null) earlierStages.add(name);
    }
  });

  describe('deps and build stages', () => {
    it('installs all dependencies with npm ci in deps', () => {
      const commands = runCommands(stage('deps'));
      expect(commands.some((c) => /\bnpm ci\b/.test(c))).toBe(true);
      expect(commands.some((c) => /--omit[= ]dev|--production\b/.test(c))).toBe(false);
    });

    it('builds with the dependencies from deps', () => {
      const copies = copiesOf(stage('build'));
      expect(copies).toContainEqual(
        expect.objectContaining({ from: 'deps', sources: ['/app/node_modules'] }),
      );
      expect(runCommands(stage('build')).some((c) => /\bnpm run build\b/.test(c))).toBe(true);
    });
  });

  describe('prod-deps stage', () => {
    it('installs only production dependencies with npm ci --omit=dev', () => {
      expect(runCommands(stage('prod-deps'))).toContainEqual(
        expect.stringMatching(/\bnpm ci\b[^;&|]*\s--omit=dev\b/),
      );
    });

    it('cleans the npm cache', () => {
      expect(runCommands(stage('prod-deps'))).toContainEqual(
        expect.stringMatching(/\bnpm cache clean --force\b/),
      );
    });
  });

  describe('runtime stage', () => {
    const runtime = () => last(stages, 'stage').template;

    it('is the last stage', () => {
      expect(last(stages, 'stage').name).toBe('runtime');
    });

    it('sets NODE_ENV=production', () => {
      expect(envValue(runtime(), 'NODE_ENV')).toBe('production');
    });

    it('runs as a non-root user', () => {
      const user = last(instructions(runtime(), 'USER'), 'USER instruction');
      const [name] = (user.getArgumentsContent() ?? '').trim().split(':');
      expect(name).toMatch(/^(?:\d+|[a-z_][a-z0-9_-]*)$/);
      expect(['root', '0']).not.toContain(name);
      expect(Number(name)).not.toBe(0);
    });

    it('installs tini from apt and removes the apt lists in the same layer', () => {
      const install = runCommands(runtime()).find((c) =>
        /\bapt-get install\b[^;&|]*\btini\b/.test(c),
      );
      expect(install).toBeDefined();
      expect(install).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
    });

    it('uses tini as an exec-form ENTRYPOINT', () => {
      const entrypoint = last(instructions(runtime(), 'ENTRYPOINT'), 'ENTRYPOINT');
      expect(execForm(entrypoint)).toEqual(['/usr/bin/tini', '--']);
    });

    it('runs exactly ["node", "dist/main.js"]', () => {
      const cmd = last(instructions(runtime(), 'CMD'), 'CMD');
      expect(execForm(cmd)).toEqual(['node', 'dist/main.js']);
    });

    it('works in /app and exposes port 3000', () => {
      const workdir = last(instructions(runtime(), 'WORKDIR'), 'WORKDIR');
      expect(workdir.getArgumentsContent()).toBe('/app');
      const ports = instructions(runtime(), 'EXPOSE').flatMap((e) =>
        e.getArguments().map((a) => a.getValue()),
      );
      expect(ports).toContain('3000');
    });

    it('copies node_modules from prod-deps, never from deps', () => {
      const copies = copiesOf(runtime()).filter((c) =>
        c.sources.some((s) => posix.basename(s) === 'node_modules'),
      );
      expect(copies.length).toBeGreaterThan(0);
      for (const copy of copies) expect(copy.from).toBe('prod-deps');
    });

    it('copies dist from build', () => {
      expect(copiesOf(runtime())).toContainEqual(
        expect.objectContaining({ from: 'build', sources: ['/app/dist'] }),
      );
    });

    it('copies only dist, production node_modules and package.json', () => {
      const copied = copiesOf(runtime())
        .flatMap((c) => c.sources.map((s) => `${c.from ?? '<context>'}:${posix.basename(s)}`))
        .sort();
      expect(copied).toEqual(['<context>:package.json', 'build:dist', 'prod-deps:node_modules']);
    });
  });

  describe('files copied from the build context', () => {
    const contextSources = [
      ...new Set(
        stages
          .flatMap((s) => copiesOf(s.template))
          .filter((c) => c.from === null)
          .flatMap((c) => c.sources)
          .filter((s) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(s))
          .map((s) =>
            posix
              .normalize(s)
              .replace(/^\.?\/+/, '')
              .replace(/\/+$/, ''),
          ),
      ),
    ];

    it('include the sources nest build needs', () => {
      expect(contextSources).toEqual(
        expect.arrayContaining([
          'package.json',
          'package-lock.json',
          'nest-cli.json',
          'tsconfig.json',
          'tsconfig.build.json',
          'src',
        ]),
      );
    });

    it.each(contextSources)('%s exists in the repository and is not in .dockerignore', (source) => {
      const matches = /[*?[]/.test(source)
        ? repoFiles().filter((file) => globToRegExp(source).test(file))
        : existsSync(join(repoRoot, source))
          ? [source]
          : [];
      expect(matches).not.toEqual([]);
      const sent = matches.flatMap((match) =>
        statSync(join(repoRoot, match)).isDirectory()
          ? repoFiles(match).filter((file) => !isExcluded(dockerignore, file))
          : isExcluded(dockerignore, match)
            ? []
            : [match],
      );
      expect(sent).not.toEqual([]);
    });

    it('send the application entry point src/main.ts', () => {
      expect(existsSync(join(repoRoot, 'src/main.ts'))).toBe(true);
      expect(isExcluded(dockerignore, 'src/main.ts')).toBe(false);
    });
  });
});

describe('.dockerignore', () => {
  it.each([
    'node_modules',
    'node_modules/express/package.json',
    'src/node_modules',
    'dist',
    'dist/main.js',
    '.git',
    '.env',
    '.env.local',
    'coverage',
    'test/support/global-setup.ts',
    'npm-debug.log',
    '.ci/run',
    'helm/values.yaml',
    'docs/runbook.md',
  ])('excludes %s', (path) => {
    expect(isExcluded(dockerignore, path)).toBe(true);
  });

  it.each([
    'src',
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'nest-cli.json',
  ])('does not exclude %s', (path) => {
    expect(isExcluded(dockerignore, path)).toBe(false);
  });

  describe('matcher used by these tests', () => {
    const rules = (text: string) => parseDockerignore(text);

    it.each([
      ['dist', 'dist/main.js', true],
      ['dist/', 'dist', true],
      ['/dist', 'dist', true],
      ['*.log', 'npm-debug.log', true],
      ['*.log', 'logs/app.log', false],
      ['**/*.log', 'logs/app.log', true],
      ['**/node_modules', 'node_modules', true],
      ['**/node_modules', 'a/b/node_modules/c', true],
      ['tsconfig*.json', 'tsconfig.build.json', true],
      ['src/**/*.spec.ts', 'src/main.ts', false],
      ['src/**/*.spec.ts', 'src/a/b.spec.ts', true],
      ['test', 'src/test', false],
      ['*\n!package.json', 'package.json', false],
      ['*\n!package.json', 'nest-cli.json', true],
      ['!package.json\n*', 'package.json', true],
      ['# src', 'src', false],
    ])('%j applied to %s excludes it: %s', (text, path, expected) => {
      expect(isExcluded(rules(text), path)).toBe(expected);
    });
  });
});
