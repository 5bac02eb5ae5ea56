// Thin shim over OpenSSL libcrypto for Cairn.
//
// Swift cannot import function-like macros, and OpenSSL 3 marks the low-level SHA-256 API as
// deprecated. Everything Cairn needs from libcrypto is re-exported here as `static inline`
// functions with a `cairn_` prefix, so that the Swift side never sees a macro or a deprecation.
#ifndef CCAIRN_OPENSSL_SHIM_H
#define CCAIRN_OPENSSL_SHIM_H

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stddef.h>
#include <stdint.h>

// MARK: SHA-256
//
// OpenSSL 3's one-shot SHA256() and EVP_Digest() fetch the algorithm from the provider on every
// call (~590 ns for 256 bytes here); SHA256_Init/Update/Final on a stack context do not (~240 ns).
// Measured in Benchmarks/ (docs/performance.md, "SHA-256 call paths").

typedef struct cairn_sha256_ctx {
    SHA256_CTX ctx;
} cairn_sha256_ctx;

static inline int cairn_sha256_init(cairn_sha256_ctx *c) { return SHA256_Init(&c->ctx); }
static inline int cairn_sha256_update(cairn_sha256_ctx *c, const void *data, size_t len) {
    return SHA256_Update(&c->ctx, data, len);
}
static inline int cairn_sha256_final(cairn_sha256_ctx *c, uint8_t out[32]) { return SHA256_Final(out, &c->ctx); }

/// SHA-256(data), one shot, without the per-call provider lookup of SHA256().
static inline void cairn_sha256(const void *data, size_t len, uint8_t out[32]) {
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}

/// SHA-256(prefix || data): the RFC 6962 leaf hash when prefix is 0x00.
static inline void cairn_sha256_prefixed(uint8_t prefix, const void *data, size_t len, uint8_t out[32]) {
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, &prefix, 1);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}

/// SHA-256(0x01 || left || right): the RFC 6962 interior node hash.
static inline void cairn_sha256_node(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]) {
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

// MARK: memory BIOs (BIO_get_mem_data is a macro)

static inline long cairn_bio_get_mem_data(BIO *bio, char **out) { return BIO_get_mem_data(bio, out); }

// MARK: errors

/// The most recent OpenSSL error as text, or an empty string; clears the queue.
static inline void cairn_last_error(char *buf, size_t len) {
    unsigned long code = ERR_get_error();
    if (len == 0) return;
    buf[0] = 0;
    if (code != 0) ERR_error_string_n(code, buf, len);
    ERR_clear_error();
}

#endif
