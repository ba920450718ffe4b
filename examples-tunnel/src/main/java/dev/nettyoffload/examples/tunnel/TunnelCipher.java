package dev.nettyoffload.examples.tunnel;

import io.netty.buffer.ByteBuf;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;

/**
 * ChaCha20-Poly1305 (RFC 8439) with the JDK's {@link Cipher}, one key for both directions and a 96-bit nonce of
 * four zero bytes and a 64-bit counter per sender. Each side starts its counter at a random point, so two
 * endpoints sharing the key do not reuse a nonce in practice; there is no replay window and no key exchange: an
 * example of where the per-packet cost goes, not a VPN.
 */
final class TunnelCipher {
    private final SecretKeySpec key;
    private final Cipher seal;
    private final Cipher open;
    private final byte[] nonce = new byte[12];
    private long counter;

    TunnelCipher(byte[] key) {
        if (key.length != 32) {
            throw new IllegalArgumentException("key: " + key.length + " bytes (expected: 32)");
        }
        this.key = new SecretKeySpec(key, "ChaCha20");
        try {
            seal = Cipher.getInstance("ChaCha20-Poly1305");
            open = Cipher.getInstance("ChaCha20-Poly1305");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 unavailable", e);
        }
        counter = new java.security.SecureRandom().nextLong() >>> 1;
    }

    /**
     * Writes header (with {@code flags} besides SEALED), counter, ciphertext and tag of {@code inner}'s readable
     * bytes to {@code out} (which needs
     * {@link TunnelHeader#datagramLength(int, boolean)} writable bytes).
     */
    void seal(ByteBuf inner, int flags, ByteBuf out) throws GeneralSecurityException {
        int start = out.writerIndex();
        long c = counter++;
        out.writeShort(TunnelHeader.MAGIC).writeByte(TunnelHeader.VERSION)
                .writeByte(TunnelHeader.FLAG_SEALED | flags).writeLong(c);
        setNonce(c);
        seal.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(nonce));
        seal.updateAAD(out.nioBuffer(start, TunnelHeader.SEALED_LENGTH));
        int length = inner.readableBytes();
        ByteBuffer dst = out.nioBuffer(out.writerIndex(), length + TunnelHeader.TAG_LENGTH);
        int n = seal.doFinal(inner.nioBuffer(inner.readerIndex(), length), dst);
        out.writerIndex(out.writerIndex() + n);
    }

    /**
     * Decrypts the sealed datagram of {@code length} bytes at {@code index} of {@code in} into {@code out}; throws
     * when the tag does not verify.
     */
    void open(ByteBuf in, int index, int length, ByteBuf out) throws GeneralSecurityException {
        setNonce(in.getLong(index + TunnelHeader.LENGTH));
        open.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(nonce));
        open.updateAAD(in.nioBuffer(index, TunnelHeader.SEALED_LENGTH));
        int cipherLength = length - TunnelHeader.SEALED_LENGTH;
        ByteBuffer dst = out.nioBuffer(out.writerIndex(), cipherLength - TunnelHeader.TAG_LENGTH);
        int n = open.doFinal(in.nioBuffer(index + TunnelHeader.SEALED_LENGTH, cipherLength), dst);
        out.writerIndex(out.writerIndex() + n);
    }

    private void setNonce(long c) {
        for (int i = 0; i < 8; i++) {
            nonce[4 + i] = (byte) (c >>> (56 - 8 * i));
        }
    }
}
