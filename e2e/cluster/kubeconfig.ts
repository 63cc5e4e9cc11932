/** A kubeconfig with one cluster, one token user and one context (pure; JSON is valid kubeconfig YAML). */
export function renderKubeconfig(opts: {
  clusterName: string;
  server: string;
  caPem: string;
  user: string;
  token: string;
}): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: opts.clusterName,
        cluster: {
          server: opts.server,
          'certificate-authority-data': Buffer.from(opts.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: opts.user, user: { token: opts.token } }],
    contexts: [{ name: opts.clusterName, context: { cluster: opts.clusterName, user: opts.user } }],
    'current-context': opts.clusterName,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** One line of kube-apiserver's --token-auth-file: token,user,uid,"group1,group2". */
export function tokenFileLine(token: string, user: string, groups: string[]): string {
  if (/[,"\n]/.test(token) || /[,"\n]/.test(user))
    throw new Error('token and user must not contain , " or newline');
  return `${token},${user},${user},"${groups.join(',')}"`;
}
