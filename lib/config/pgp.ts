/**
 * Just enough OpenPGP (RFC 4880 / RFC 9580) to check a recipient of `backupEncryption` at configuration time,
 * with no dependency and no measurable cost: the ASCII armor (headers, base64, CRC-24), the packet headers,
 * and the v4 fingerprint of the primary key (SHA-1 over 0x99, the two-octet length and the public-key packet's
 * body, RFC 4880 §12.2). It tells a public key from a private one (armor type, secret-key packets) so that a
 * private key pasted by mistake is refused; it never returns or prints any of the key's material.
 */
import { createHash } from "crypto";

/** Public-key algorithms gpg can encrypt to (RSA, ElGamal, ECDH; RSA sign-only and DSA/EdDSA primaries carry an encryption subkey). */
const PUBLIC_KEY_PACKET = 6;
const SECRET_KEY_PACKET = 5;
const SECRET_SUBKEY_PACKET = 7;
const PUBLIC_SUBKEY_PACKET = 14;
const SIGNATURE_PACKET = 2;
/** Signature type 0x20: a key revocation signature (RFC 4880 §5.2.1), placed right after the primary key. */
const KEY_REVOCATION = 0x20;

export type ArmorCheck =
    | { kind: "public"; fingerprint: string; subkeys: number }
    | { kind: "revoked"; fingerprint: string }
    | { kind: "private" }
    | { kind: "malformed"; reason: string };

/** A 40-hex v4 fingerprint, as gpg prints it (spaces allowed, any case, an optional 0x): the normalised form, or undefined. */
export function normalizeFingerprint(value: string): string | undefined {
    const compact = value.replace(/\s+/g, "").replace(/^0x/i, "").toUpperCase();
    return /^[0-9A-F]{40}$/.test(compact) ? compact : undefined;
}

/** Whether the value looks like an ASCII-armored OpenPGP block (whatever its type). */
export function looksArmored(value: string): boolean {
    return /-----BEGIN PGP [A-Z ,/0-9]+-----/.test(value);
}

function crc24(data: Buffer): number {
    let crc = 0xb704ce;
    for (const byte of data) {
        crc ^= byte << 16;
        for (let i = 0; i < 8; i++) {
            crc <<= 1;
            if (crc & 0x1000000) {
                crc ^= 0x1864cfb;
            }
        }
    }
    return crc & 0xffffff;
}

interface Packet {
    tag: number;
    body: Buffer;
}

/** The packets of a binary OpenPGP message; throws an Error whose message is safe to show (no key material). */
function packetsOf(data: Buffer): Packet[] {
    const packets: Packet[] = [];
    let at = 0;
    while (at < data.length) {
        const header = data[at];
        if ((header & 0x80) === 0) {
            throw new Error(`byte ${at} is not an OpenPGP packet header`);
        }
        let tag: number;
        let length: number;
        let start: number;
        if (header & 0x40) {
            tag = header & 0x3f;
            const first = data[at + 1];
            if (first === undefined) {
                throw new Error("truncated packet header");
            }
            if (first < 192) {
                length = first;
                start = at + 2;
            } else if (first < 224) {
                length = ((first - 192) << 8) + data[at + 2] + 192;
                start = at + 3;
            } else if (first === 255) {
                length = data.readUInt32BE(at + 2);
                start = at + 6;
            } else {
                throw new Error("partial-length packet: not a key block");
            }
        } else {
            tag = (header >> 2) & 0x0f;
            const lengthType = header & 0x03;
            if (lengthType === 3) {
                throw new Error("indeterminate-length packet: not a key block");
            }
            const octets = [1, 2, 4][lengthType];
            if (at + 1 + octets > data.length) {
                throw new Error("truncated packet header");
            }
            length = octets === 1 ? data[at + 1] : octets === 2 ? data.readUInt16BE(at + 1) : data.readUInt32BE(at + 1);
            start = at + 1 + octets;
        }
        if (start + length > data.length) {
            throw new Error(`packet ${packets.length + 1} is truncated (${length} bytes declared, ${data.length - start} present)`);
        }
        packets.push({ tag, body: data.subarray(start, start + length) });
        at = start + length;
    }
    return packets;
}

/**
 * Checks one armored block: a public key (its v4 fingerprint), a private key (refused by the caller), or
 * malformed (a reason that names no key material). Only the first block of the text is read; text after it
 * (a second block) is malformed: one recipient per entry.
 */
export function checkArmoredKey(text: string): ArmorCheck {
    const begin = /-----BEGIN PGP ([A-Z ,/0-9]+)-----/.exec(text);
    if (!begin) {
        return { kind: "malformed", reason: "no -----BEGIN PGP PUBLIC KEY BLOCK----- line" };
    }
    if (/PRIVATE|SECRET/.test(begin[1])) {
        return { kind: "private" };
    }
    if (begin[1] !== "PUBLIC KEY BLOCK") {
        return { kind: "malformed", reason: `an armored "${begin[1]}", not a PUBLIC KEY BLOCK` };
    }
    const afterBegin = text.slice(begin.index + begin[0].length);
    const end = afterBegin.indexOf("-----END PGP PUBLIC KEY BLOCK-----");
    if (end < 0) {
        return { kind: "malformed", reason: "no -----END PGP PUBLIC KEY BLOCK----- line" };
    }
    if (/-----BEGIN PGP/.test(afterBegin.slice(end + 34))) {
        return /-----BEGIN PGP (PRIVATE|SECRET)/.test(afterBegin.slice(end)) ? { kind: "private" } : { kind: "malformed", reason: "more than one armored block (give one key per recipient)" };
    }
    const lines = afterBegin.slice(0, end).split(/\r?\n/).map((l) => l.trim());
    // Armor headers (Version: ..., Comment: ...) end at the first blank line.
    let i = 0;
    while (i < lines.length && lines[i] === "") {
        i++;
    }
    if (i < lines.length && /^[A-Za-z-]+: /.test(lines[i])) {
        while (i < lines.length && lines[i] !== "") {
            i++;
        }
    }
    const body = lines.slice(i).filter((l) => l !== "");
    let checksum: string | undefined;
    if (body.length > 0 && body[body.length - 1].startsWith("=")) {
        checksum = body.pop()!.slice(1);
    }
    if (body.some((l) => /\s/.test(l))) {
        // A YAML folded scalar (`>`) joins the armor's lines with spaces; gpg could not import it either.
        return { kind: "malformed", reason: "the armor's lines are joined by spaces (a YAML folded scalar `>`? paste it as a literal block `|`, one base64 line per line)" };
    }
    const base64 = body.join("");
    if (base64 === "" || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) {
        return { kind: "malformed", reason: "the armor's body is not base64" };
    }
    const data = Buffer.from(base64, "base64");
    if (checksum !== undefined) {
        const expected = Buffer.from(checksum, "base64");
        if (expected.length !== 3 || expected.readUIntBE(0, 3) !== crc24(data)) {
            return { kind: "malformed", reason: "the armor's CRC-24 checksum does not match its body (truncated or edited)" };
        }
    }
    let packets: Packet[];
    try {
        packets = packetsOf(data);
    } catch (err) {
        return { kind: "malformed", reason: (err as Error).message };
    }
    if (packets.some((p) => p.tag === SECRET_KEY_PACKET || p.tag === SECRET_SUBKEY_PACKET)) {
        return { kind: "private" };
    }
    const primary = packets[0];
    if (!primary || primary.tag !== PUBLIC_KEY_PACKET) {
        return { kind: "malformed", reason: "the block does not start with a public-key packet" };
    }
    const version = primary.body[0];
    if (version !== 4) {
        return { kind: "malformed", reason: `a v${version} key; the backup image's gpg encrypts to v4 keys (40-hex fingerprints)` };
    }
    const prefix = Buffer.from([0x99, (primary.body.length >> 8) & 0xff, primary.body.length & 0xff]);
    const fingerprint = createHash("sha1").update(prefix).update(primary.body).digest("hex").toUpperCase();
    // A key revocation signature directly on the primary key (gpg exports it right after the key packet, before
    // the user ids): gpg refuses to encrypt to the key, so every backup to it would fail.
    for (const p of packets.slice(1)) {
        if (p.tag !== SIGNATURE_PACKET) {
            break;
        }
        const type = p.body[0] === 3 ? p.body[2] : p.body[1];
        if (type === KEY_REVOCATION) {
            return { kind: "revoked", fingerprint };
        }
    }
    return { kind: "public", fingerprint, subkeys: packets.filter((p) => p.tag === PUBLIC_SUBKEY_PACKET).length };
}
