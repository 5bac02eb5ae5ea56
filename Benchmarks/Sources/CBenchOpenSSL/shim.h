// The three ways to compute a SHA-256 with OpenSSL 3 that docs/performance.md compares.
#ifndef CBENCH_OPENSSL_SHIM_H
#define CBENCH_OPENSSL_SHIM_H
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stddef.h>
#include <stdint.h>

/// EVP one-shot: looks the digest up on every call.
static inline void bench_sha256_evp_oneshot(const void *data, size_t len, uint8_t out[32]) {
    unsigned int n = 32;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

/// A reused EVP_MD_CTX with a pre-fetched EVP_MD.
static inline void bench_sha256_evp_reused(EVP_MD_CTX *ctx, const EVP_MD *md, const void *data, size_t len,
                                           uint8_t out[32]) {
    unsigned int n = 32;
    EVP_DigestInit_ex2(ctx, md, NULL);
    EVP_DigestUpdate(ctx, data, len);
    EVP_DigestFinal_ex(ctx, out, &n);
}

/// The low-level API (what Cairn uses).
static inline void bench_sha256_lowlevel(const void *data, size_t len, uint8_t out[32]) {
    SHA256((const unsigned char *)data, len, out);
}

/// The RFC 6962 node hash as CairnCrypto computed it before SHA256_Transform (docs/performance.md).
static inline void bench_sha256_node_update_final(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]) {
    uint8_t buf[65];
    buf[0] = 0x01;
    for (int i = 0; i < 32; i++) {
        buf[1 + i] = left[i];
        buf[33 + i] = right[i];
    }
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, buf, sizeof buf);
    SHA256_Final(out, &c);
}

/// The same with the two padded blocks given to SHA256_Transform directly.
static inline void bench_sha256_node_transform(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]) {
    uint8_t block[128] = {0};
    block[0] = 0x01;
    for (int i = 0; i < 32; i++) {
        block[1 + i] = left[i];
        block[33 + i] = right[i];
    }
    block[65] = 0x80;
    block[126] = 0x02;
    block[127] = 0x08;
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Transform(&c, block);
    SHA256_Transform(&c, block + 64);
    for (int i = 0; i < 8; i++) {
        uint32_t h = c.h[i];
        out[4 * i] = (uint8_t)(h >> 24);
        out[4 * i + 1] = (uint8_t)(h >> 16);
        out[4 * i + 2] = (uint8_t)(h >> 8);
        out[4 * i + 3] = (uint8_t)h;
    }
}

static inline EVP_MD *bench_fetch_sha256(void) { return EVP_MD_fetch(NULL, "SHA256", NULL); }
#endif
