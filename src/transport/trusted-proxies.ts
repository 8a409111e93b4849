import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { OptionError } from '../option-error.js';

/** `--trusted-proxy CIDR[,CIDR]`: the peers whose PROXY protocol header is believed. */
export function parseTrustedProxies(spec: string): BlockList {
  const list = new BlockList();
  for (const item of spec.split(',').map((part) => part.trim()).filter(Boolean)) {
    const [address = '', prefixText] = item.split('/');
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null;
    if (!family) throw new OptionError(`--trusted-proxy: "${item}" is not an address or CIDR`);
    const maxPrefix = family === 'ipv4' ? 32 : 128;
    const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix) throw new OptionError(`--trusted-proxy: bad prefix in "${item}"`);
    list.addSubnet(address, prefix, family);
  }
  return list;
}

export function isTrusted(list: BlockList, address: string): boolean {
  if (isIPv4(address)) return list.check(address, 'ipv4');
  if (isIPv6(address)) return list.check(address, 'ipv6');
  return false;
}
