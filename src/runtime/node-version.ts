// Which Node.js the service supports: older majors start, with a warning that names what to install.
/** The Node.js major version the service is tested on; older ones are past end of life (Node.js 20 on 2026-04-30). */
export const SUPPORTED_NODE_MAJOR = 24;

/** A warning for an unsupported Node.js (`version` as in process.versions.node), or undefined when it is supported. */
export function nodeSupportWarning(version: string): string | undefined {
  const major = Number(version.split('.')[0]);
  if (Number.isInteger(major) && major >= SUPPORTED_NODE_MAJOR) return undefined;
  return `Node.js ${version} is not supported: the service is tested on Node.js ${SUPPORTED_NODE_MAJOR} (README.md); install Node.js ${SUPPORTED_NODE_MAJOR} LTS before relying on it in production`;
}
