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
    // The 65-byte message is exactly two blocks once padded: 0x01 || left || right[0..30], then
    // right[31] || 0x80 || zeros || the bit length 520 (0x0208). Both go straight to the compression
    // function (SHA256_Transform), without SHA256_Update's buffering and SHA256_Final's padding and
    // cleansing: the same digest, checked against RFC 6962 vectors by the Merkle tests.
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
