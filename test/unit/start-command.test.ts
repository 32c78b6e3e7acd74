// Every way this repository starts the service runs the same command: `npm start`'s, V8 heap flags included (README,
// "Memory"), so that a deployment runs what the bench measures (bench/targets.ts reads the same start script).
import { read, readYaml, readYamlFolder } from '../support/deploy-files.js';

const MAIN = 'dist/src/main.js';
const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start;

/** The words of a command line, the node binary's path reduced to `node`. */
const words = (line: string): string[] => line.trim().split(/\s+/).map((w, i) => (i === 0 && /(^|\/)node$/.test(w) ? 'node' : w));

describe('the start command', () => {
  const npm = words(start);

  it('npm start runs node with the heap flags on dist/src/main.js', () => {
    expect(npm[0]).toBe('node');
    expect(npm.at(-1)).toBe(MAIN);
    expect(npm).toEqual(expect.arrayContaining([expect.stringMatching(/^--max-semi-space-size=\d+$/), expect.stringMatching(/^--max-old-space-size=\d+$/)]));
  });

  it("the Docker image's CMD (also the command of docker-compose and Kubernetes, which set none) is npm start's", () => {
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
    expect(JSON.parse(cmd ?? 'null')).toEqual(npm);
  });

  it("the systemd unit's ExecStart is npm start's", () => {
    const exec = /^ExecStart=(.*)$/m.exec(read('deploy/systemd/token-revocation-api.service'))?.[1];
    expect(words(exec ?? '')).toEqual(npm);
  });

  it("main.js --help shows npm start's command", () => {
    expect(read('src/main.ts')).toContain(`  ${start}\n`);
  });

  it('docker-compose and Kubernetes run the image as it is: no command, entrypoint or args of their own', () => {
    for (const file of ['docker-compose.yml', 'docker-compose.sentinel.yml']) {
      const services = readYaml<{ services: Record<string, { image?: string; command?: unknown; entrypoint?: unknown }> }>(file).services;
      const ours = Object.entries(services).filter(([, s]) => s.image?.startsWith('token-revocation-api:'));
      expect(ours.length).toBeGreaterThan(0);
      for (const [name, s] of ours) expect([file, name, s.command, s.entrypoint]).toEqual([file, name, undefined, undefined]);
    }
    const containers = readYamlFolder('deploy/kubernetes')
      .filter(({ doc }) => doc['kind'] === 'Deployment')
      .flatMap(({ file, doc }) => ((doc['spec'] as { template: { spec: { containers: { name: string; command?: unknown; args?: unknown }[] } } }).template.spec.containers).map((c) => ({ file, ...c })));
    expect(containers.length).toBeGreaterThan(0);
    for (const c of containers) expect([c.file, c.name, c.command, c.args]).toEqual([c.file, c.name, undefined, undefined]);
  });
});
