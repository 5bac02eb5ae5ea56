// Thin shim over the LMDB C library (liblmdb-dev) for Cairn's storage module.
#ifndef CCAIRN_LMDB_SHIM_H
#define CCAIRN_LMDB_SHIM_H
#include <lmdb.h>
#endif
