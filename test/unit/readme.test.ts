// README.md: its list of revocable token types holds every type string a provider offers.
import { readFileSync } from 'node:fs';
import { GITHUB_KINDS } from '../../providers/github/index.js';
import { KIND_RULES, typesOf } from '../../providers/gitlab/kinds.js';
import { SLACK_KINDS } from '../../providers/slack/index.js';

describe('README token types', () => {
  it('documents every type string of every provider in the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const types = [...KIND_RULES.flatMap(typesOf), ...GITHUB_KINDS.flatMap((k) => k.types), ...SLACK_KINDS.flatMap((k) => k.types)];
    expect(types.filter((t) => !readme.includes(`\`${t}\``))).toEqual([]);
  });
});
