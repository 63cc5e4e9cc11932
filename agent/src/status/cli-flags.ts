/** `--json` and `--addr A` (default $WEFT_STATUS_ADDR or the local agent), shared by the `weft` verbs. */
export function parseCliFlags(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  usage: string,
): { json: boolean; addr: string } {
  let json = false;
  let addr = env.WEFT_STATUS_ADDR ?? 'http://127.0.0.1:9742';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--addr' && args[i + 1]) addr = args[++i] as string;
    else if (a?.startsWith('--addr=')) addr = a.slice('--addr='.length);
    else throw new Error(usage);
  }
  if (!/^https?:\/\//.test(addr)) addr = `http://${addr}`;
  return { json, addr: addr.replace(/\/+$/, '') };
}
