package dev.nettyoffload.examples.quic;

import io.netty.handler.ssl.util.SelfSignedCertificate;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Base64;

/**
 * A self-signed ECDSA P-256 certificate for {@code localhost}, made once per JVM (key generation is slow on a
 * busy machine) for the examples' QUIC and HTTP/3 servers. Clients trust it by its SPKI hash
 * ({@link #spkiSha256()}), as Chromium's {@code --ignore-certificate-errors-spki-list} does.
 */
public final class TestCertificate {
    private static TestCertificate instance;

    private final PrivateKey key;
    private final X509Certificate cert;

    private TestCertificate(PrivateKey key, X509Certificate cert) {
        this.key = key;
        this.cert = cert;
    }

    /** The certificate of this JVM, made on first use. */
    public static synchronized TestCertificate get() {
        if (instance == null) {
            try {
                @SuppressWarnings("deprecation")
                SelfSignedCertificate ssc = new SelfSignedCertificate("localhost", "EC", 256);
                instance = new TestCertificate(ssc.key(), ssc.cert());
                ssc.delete();
            } catch (CertificateException e) {
                throw new IllegalStateException("cannot make a self-signed certificate", e);
            }
        }
        return instance;
    }

    public PrivateKey key() {
        return key;
    }

    public X509Certificate cert() {
        return cert;
    }

    /** Base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo. */
    public String spkiSha256() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getPublicKey().getEncoded());
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
