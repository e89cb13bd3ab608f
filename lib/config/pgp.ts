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
    | { kind: "cannot-encrypt"; fingerprint: string; reason: string }
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
/** The hashed and unhashed subpackets of a v4 signature ({ type, data }), or undefined for another version. */
function subpacketsOf(sig: Buffer): { hashed: Array<{ type: number; data: Buffer }>; unhashed: Array<{ type: number; data: Buffer }> } | undefined {
    if (sig[0] !== 4 || sig.length < 6) {
        return undefined;
    }
    const area = (from: number, length: number) => {
        const out: Array<{ type: number; data: Buffer }> = [];
        let at = from;
        while (at < from + length && at < sig.length) {
            const first = sig[at];
            let size: number;
            if (first < 192) {
                size = first;
                at += 1;
            } else if (first < 255) {
                size = ((first - 192) << 8) + sig[at + 1] + 192;
                at += 2;
            } else {
                size = sig.readUInt32BE(at + 1);
                at += 5;
            }
            out.push({ type: sig[at] & 0x7f, data: sig.subarray(at + 1, at + size) });
            at += size;
        }
        return out;
    };
    const hashedLength = sig.readUInt16BE(4);
    const unhashedAt = 6 + hashedLength;
    if (unhashedAt + 2 > sig.length) {
        return undefined;
    }
    return { hashed: area(6, hashedLength), unhashed: area(unhashedAt + 2, sig.readUInt16BE(unhashedAt)) };
}

/** Algorithms that can encrypt (RFC 9580 §9.1): RSA, RSA encrypt-only, ElGamal, ECDH, X25519, X448. */
const ENCRYPTING_ALGORITHMS = new Set([1, 2, 16, 18, 25, 26]);
const KEY_FLAGS = 27;
const KEY_EXPIRATION = 9;
const SIGNATURE_CREATION = 2;
const ISSUER = 16;
const ISSUER_FINGERPRINT = 33;
const SUBKEY_BINDING = 0x18;
const SUBKEY_REVOCATION = 0x28;

/**
 * Whether gpg could encrypt to the key now: some key of it (the primary or a subkey) has an encrypting
 * algorithm, encryption usage in its key flags (when its self-signature states them), is not expired and (a
 * subkey) not revoked. Only self-signatures count (issuer = the primary key); signatures are not verified,
 * which is enough to catch a mistake (a certify-only key, an expired encryption subkey), not an attack.
 */
function encryptionProblem(packets: Packet[], fingerprint: string, now: number): string | undefined {
    const keyId = fingerprint.slice(-16);
    const own = (sub: NonNullable<ReturnType<typeof subpacketsOf>>) => {
        const all = [...sub.hashed, ...sub.unhashed];
        const issuer = all.find((x) => x.type === ISSUER_FINGERPRINT);
        if (issuer) {
            return issuer.data.subarray(1).toString("hex").toUpperCase() === fingerprint;
        }
        const id = all.find((x) => x.type === ISSUER);
        return id === undefined || id.data.toString("hex").toUpperCase() === keyId;
    };
    // Each key (primary, subkeys) with the self-signatures that follow it, up to the next key.
    const keys: Array<{ packet: Packet; sigs: Packet[] }> = [];
    for (const p of packets) {
        if (p.tag === PUBLIC_KEY_PACKET || p.tag === PUBLIC_SUBKEY_PACKET) {
            keys.push({ packet: p, sigs: [] });
        } else if (p.tag === SIGNATURE_PACKET && keys.length > 0) {
            keys[keys.length - 1].sigs.push(p);
        }
    }
    // The primary's own expiry (its newest user-id self-signature): once it passes, gpg uses none of its subkeys.
    const primary = keys[0]?.packet.body;
    if (primary !== undefined && primary.length >= 5) {
        let newestUid: { time: number; seconds: number } | undefined;
        for (const sig of packets.filter((p) => p.tag === SIGNATURE_PACKET && p.body[1] >= 0x10 && p.body[1] <= 0x13)) {
            const sub = subpacketsOf(sig.body);
            if (!sub || !own(sub)) {
                continue;
            }
            const at = sub.hashed.find((x) => x.type === SIGNATURE_CREATION);
            const expiry = sub.hashed.find((x) => x.type === KEY_EXPIRATION);
            const time = at && at.data.length >= 4 ? at.data.readUInt32BE(0) : 0;
            if (!newestUid || time >= newestUid.time) {
                newestUid = { time, seconds: expiry && expiry.data.length >= 4 ? expiry.data.readUInt32BE(0) : 0 };
            }
        }
        const end = newestUid && newestUid.seconds > 0 ? (primary.readUInt32BE(1) + newestUid.seconds) * 1000 : undefined;
        if (end !== undefined && end <= now) {
            return `expired on ${new Date(end).toISOString().slice(0, 10)} (its primary key): extend it (gpg --quick-set-expire FPR 2y) and paste the key again`;
        }
    }
    let expiredAt: number | undefined;
    for (const [i, key] of keys.entries()) {
        const body = key.packet.body;
        if (body[0] !== 4 || !ENCRYPTING_ALGORITHMS.has(body[5])) {
            continue;
        }
        const created = body.readUInt32BE(1);
        // The newest own self-signature: a subkey's binding (or revocation), the primary's user-id certifications.
        let newest: { time: number; type: number; sub: NonNullable<ReturnType<typeof subpacketsOf>> } | undefined;
        const sigSource = i === 0 ? packets.filter((p) => p.tag === SIGNATURE_PACKET) : key.sigs;
        for (const sig of sigSource) {
            const sub = subpacketsOf(sig.body);
            if (!sub || !own(sub)) {
                continue;
            }
            const type = sig.body[1];
            if (i === 0 ? type < 0x10 || type > 0x13 : type !== SUBKEY_BINDING && type !== SUBKEY_REVOCATION) {
                continue;
            }
            const at = sub.hashed.find((x) => x.type === SIGNATURE_CREATION);
            const time = at && at.data.length >= 4 ? at.data.readUInt32BE(0) : 0;
            if (type === SUBKEY_REVOCATION) {
                newest = { time: Infinity, type, sub };
            } else if (!newest || time >= newest.time) {
                newest = { time, type, sub };
            }
        }
        if (newest?.type === SUBKEY_REVOCATION) {
            continue;
        }
        const flags = newest?.sub.hashed.find((x) => x.type === KEY_FLAGS);
        if (flags && flags.data.length > 0 && (flags.data[0] & 0x0c) === 0) {
            continue;
        }
        const expiry = newest?.sub.hashed.find((x) => x.type === KEY_EXPIRATION);
        const seconds = expiry && expiry.data.length >= 4 ? expiry.data.readUInt32BE(0) : 0;
        if (seconds > 0 && (created + seconds) * 1000 <= now) {
            expiredAt = Math.max(expiredAt ?? 0, (created + seconds) * 1000);
            continue;
        }
        return undefined;
    }
    return expiredAt !== undefined
        ? `every encryption key of it expired (the last on ${new Date(expiredAt).toISOString().slice(0, 10)}): extend it (gpg --quick-set-expire) and paste the key again`
        : "has no key gpg can encrypt to (a certify- or sign-only key with no encryption subkey): add one (gpg --quick-add-key FPR cv25519 encr) and paste the key again";
}

export function checkArmoredKey(text: string, now = Date.now()): ArmorCheck {
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
    const cannot = encryptionProblem(packets, fingerprint, now);
    if (cannot !== undefined) {
        return { kind: "cannot-encrypt", fingerprint, reason: cannot };
    }
    return { kind: "public", fingerprint, subkeys: packets.filter((p) => p.tag === PUBLIC_SUBKEY_PACKET).length };
}
