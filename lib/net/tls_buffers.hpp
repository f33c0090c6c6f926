// OpenSSL's large short-lived buffers kept out of the malloc heap.
//
// Why: a WSS connection's TLS record buffers (about 17 kB each, taken and given back around every
// record with SSL_MODE_RELEASE_BUFFERS) and its handshake message buffer (about 21 kB) are the
// largest allocations the eP-CSCF makes, and during a registration storm thousands of them live
// at once between the long-lived objects of the connections. Given back to glibc, their holes were
// split for small long-lived objects and the heap stayed fragmented: with 10,000 idle WSS
// connections about 3.7 kB per connection more RSS than with those buffers elsewhere
// (docs/performance.md, "Memory per registered WIC").
//
// So OpenSSL's allocations between 12 and 24 kB come from a pool of 24 kB blocks in a region of
// their own: a free list, the most recently freed blocks kept ready, the pages of the others given
// back to the kernel (MADV_DONTNEED). Everything else goes to malloc as before. Installed before
// main() with CRYPTO_set_mem_functions (which only works before OpenSSL's first allocation); if
// that is refused, OpenSSL simply keeps using malloc.
#pragma once

#include <cstddef>

namespace net::tls_buffers {

// Whether the pool serves OpenSSL's large buffers in this process.
bool active();
// Whether `p` is a block of the pool (tests).
bool owns(const void* p);
// Blocks handed out now, and blocks free with their pages still resident (tests, diagnostics).
size_t blocks_in_use();
size_t blocks_kept();

}  // namespace net::tls_buffers
