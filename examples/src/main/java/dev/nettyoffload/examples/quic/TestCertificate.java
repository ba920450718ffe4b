package dev.nettyoffload.examples.quic;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
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
                Instant now = Instant.now();
                X509Bundle bundle = new CertificateBuilder()
                        .subject("CN=localhost")
                        .addSanDnsName("localhost")
                        .addSanIpAddress("127.0.0.1")
                        .addSanIpAddress("::1")
                        .notBefore(now.minus(Duration.ofDays(1)))
                        // Chromium refuses server certificates valid for more than 398 days.
                        .notAfter(now.plus(Duration.ofDays(30)))
                        .ecp256()
                        // buildSelfSigned() makes a root: clients here trust it by its SPKI hash, not by a chain.
                        .setIsCertificateAuthority(true)
                        .buildSelfSigned();
                instance = new TestCertificate(bundle.getKeyPair().getPrivate(), bundle.getCertificate());
            } catch (Exception e) {
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
