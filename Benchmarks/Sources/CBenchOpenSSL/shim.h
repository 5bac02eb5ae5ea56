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

static inline EVP_MD *bench_fetch_sha256(void) { return EVP_MD_fetch(NULL, "SHA256", NULL); }
#endif
