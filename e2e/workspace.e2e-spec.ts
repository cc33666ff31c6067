import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const json = (file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8'));

/** The workspace rules that keep the services independent. */
describe('the workspace', () => {
  // The boundaries rule reads Nx's project graph and is skipped (with a warning) when
  // none is cached, as on a fresh clone: compute it first, as `nx run-many -t lint` does.
  beforeAll(() => {
    const run = spawnSync(join(ROOT, 'node_modules', '.bin', 'nx'), ['show', 'projects'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' } });
    expect(run.status).toBe(0);
  });

  // The ESLint CLI, as `npm run lint` runs it (its .mjs config cannot load inside Jest's VM).
  const lint = async (file: string, code: string): Promise<string[]> => {
    const eslint = join(ROOT, 'node_modules', '.bin', 'eslint');
    const run = spawnSync(eslint, ['--stdin', '--stdin-filename', file, '--format', 'json'], { cwd: ROOT, input: code, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' } });
    const [result] = JSON.parse(run.stdout) as { messages: { ruleId: string; message: string }[] }[];
    return result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
  };

  it('forbids an app from importing another app', async () => {
    const errors = await lint('apps/dispatcher/src/sneaky.ts', "import { AppModule } from '../../hook-registry/src/app.module';\nexport const x = AppModule;\n");
    expect(errors.join('\n')).toMatch(/cannot be imported by a relative or absolute path|can only depend on libs tagged/);
  });

  it('forbids a lib from importing an app', async () => {
    const errors = await lint('libs/contracts/src/sneaky.ts', "import { AppModule } from '../../../apps/dispatcher/src/app.module';\nexport const x = AppModule;\n");
    expect(errors.length).toBeGreaterThan(0);
  });

  it('forbids shared production code from using the test kit', async () => {
    const errors = await lint('libs/messaging/src/sneaky.ts', "import { waitFor } from '@posthooks/testing';\nexport const x = waitFor;\n");
    expect(errors.join('\n')).toMatch(/scope:shared/);
  });

  it('lets an app import a lib through its alias', async () => {
    expect(await lint('apps/dispatcher/src/fine.ts', "import { Subjects } from '@posthooks/contracts';\nexport const x = Subjects;\n")).toEqual([]);
  });

  it('tags every project', () => {
    for (const dir of ['apps', 'libs']) {
      for (const name of readdirSync(join(ROOT, dir))) {
        const tags: string[] = json(`${dir}/${name}/project.json`).tags;
        expect({ project: name, type: tags.some((t) => t.startsWith('type:')), scope: dir === 'libs' ? tags.some((t) => t.startsWith('scope:')) : tags.includes(`scope:${name}`) }).toEqual({ project: name, type: true, scope: true });
      }
    }
  });

  it('compiles the same @posthooks/* aliases as it type-checks (.swcrc and tsconfig.base.json)', () => {
    expect(json('.swcrc').jsc.paths).toEqual(json('tsconfig.base.json').compilerOptions.paths);
  });

  it('runs Nx offline: no cloud, no analytics', () => {
    expect(json('nx.json')).toMatchObject({ neverConnectToCloud: true, analytics: false });
  });
});
