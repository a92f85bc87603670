/**
 * The TCP addresses a process listens on, read from /proc: the inodes of
 * its socket descriptors matched against the kernel's table of listening
 * sockets. Linux only; needs no tool beyond the file system.
 */

/** `address:port` for each socket `pid` listens on, IPv4 and IPv6. */
export async function listeningAddresses(pid: number): Promise<string[]> {
  const inodes = new Set<string>();
  for await (const entry of Deno.readDir(`/proc/${pid}/fd`)) {
    try {
      const target = await Deno.readLink(`/proc/${pid}/fd/${entry.name}`);
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match) inodes.add(match[1]);
    } catch {
      // A descriptor closed while we looked.
    }
  }
  const addresses: string[] = [];
  for (const table of ["tcp", "tcp6"]) {
    const lines = (await Deno.readTextFile(`/proc/${pid}/net/${table}`)).trim().split("\n");
    for (const line of lines.slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, state, inode] = [fields[1], fields[3], fields[9]];
      if (state === "0A" && inodes.has(inode)) addresses.push(decodeAddress(local));
    }
  }
  return addresses;
}

/** /proc/net's `0100007F:3A98` (words in host byte order) as `127.0.0.1:15000`; IPv6 as `[...]:p`. */
function decodeAddress(hex: string): string {
  const [address, port] = hex.split(":");
  const portNumber = parseInt(port, 16);
  const ipv4 = (word: string) =>
    word.match(/../g)!.map((byte) => parseInt(byte, 16)).reverse().join(".");
  if (address.length === 8) return `${ipv4(address)}:${portNumber}`;
  const words = address.match(/.{8}/g)!;
  // Java binds 127.0.0.1 through an IPv6 socket: the IPv4-mapped ::ffff:127.0.0.1.
  if (words[0] === "00000000" && words[1] === "00000000" && words[2].toUpperCase() === "FFFF0000") {
    return `${ipv4(words[3])}:${portNumber}`;
  }
  const groups = words.flatMap((word) => {
    const bytes = word.match(/../g)!.reverse().join("");
    return [bytes.slice(0, 4), bytes.slice(4)];
  });
  return `[${groups.map((group) => group.replace(/^0{1,3}/, "")).join(":")}]:${portNumber}`;
}
