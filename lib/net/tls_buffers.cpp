#include "net/tls_buffers.hpp"

#include <openssl/crypto.h>
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace net::tls_buffers {
namespace {

constexpr size_t kMin = 12 * 1024;      // smaller: malloc
constexpr size_t kBlock = 24 * 1024;    // the handshake buffer is 21,848 octets (BUF_MEM_grow of 16 kB)
constexpr size_t kRegion = size_t(512) << 20;  // address space only: untouched pages cost nothing
constexpr size_t kKeep = 64;            // free blocks kept resident for the next records

struct FreeBlock {
  FreeBlock* next;
  bool resident;
};

struct Pool {
  std::mutex mu;
  char* base = nullptr;
  size_t used = 0;           // blocks ever handed out (bump pointer)
  FreeBlock* resident = nullptr;  // free, pages still there: reused first
  FreeBlock* released = nullptr;  // free, pages given back
  size_t kept = 0, in_use = 0;
  bool active = false;

  bool owns(const void* p) const {
    auto* c = static_cast<const char*>(p);
    return base && c >= base && c < base + kRegion;
  }

  void* take() {
    std::lock_guard lk(mu);
    FreeBlock* b = nullptr;
    if (resident) {
      b = resident;
      resident = b->next;
      --kept;
    } else if (released) {
      b = released;
      released = b->next;
    } else if ((used + 1) * kBlock <= kRegion) {
      b = reinterpret_cast<FreeBlock*>(base + used * kBlock);
      ++used;
    } else {
      return nullptr;  // region full: malloc
    }
    ++in_use;
    return b;
  }

  void give(void* p) {
    auto* b = static_cast<FreeBlock*>(p);
    bool release = false;
    {
      std::lock_guard lk(mu);
      --in_use;
      if (kept < kKeep) {
        b->next = resident;
        resident = b;
        ++kept;
        return;
      }
      release = true;
    }
    if (release) {
      // Outside the lock: the pages go back to the kernel (they read as zeros when reused).
      ::madvise(b, kBlock, MADV_DONTNEED);
      std::lock_guard lk(mu);
      b->next = released;
      released = b;
    }
  }
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: OpenSSL may free after static destructors ran
  return *p;
}

void* pool_malloc(size_t n, const char*, int) {
  if (n >= kMin && n <= kBlock)
    if (void* p = pool().take()) return p;
  return std::malloc(n);
}

void pool_free(void* p, const char*, int) {
  if (!p) return;
  Pool& P = pool();
  if (P.owns(p)) return P.give(p);
  std::free(p);
}

void* pool_realloc(void* p, size_t n, const char* file, int line) {
  if (!p) return pool_malloc(n, file, line);
  Pool& P = pool();
  if (!P.owns(p)) {
    if (n >= kMin && n <= kBlock) {
      // Growing into the pool's range: move it there (the old size is unknown, but at most n
      // octets of it can matter, and malloc_usable_size is not portable: copy what realloc keeps).
      void* q = std::realloc(p, n);
      if (!q) return nullptr;
      if (void* b = P.take()) {
        std::memcpy(b, q, n);
        std::free(q);
        return b;
      }
      return q;
    }
    return std::realloc(p, n);
  }
  if (n && n <= kBlock) return p;  // a block holds up to kBlock whatever was asked
  if (n == 0) {
    P.give(p);
    return nullptr;
  }
  void* q = std::malloc(n);
  if (!q) return nullptr;
  std::memcpy(q, p, kBlock);
  P.give(p);
  return q;
}

// Before main(): CRYPTO_set_mem_functions is refused once OpenSSL has allocated anything.
__attribute__((constructor(101))) void install() {
  Pool& P = pool();
  void* base = ::mmap(nullptr, kRegion, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return;
  P.base = static_cast<char*>(base);
  if (CRYPTO_set_mem_functions(pool_malloc, pool_realloc, pool_free) != 1) {
    ::munmap(base, kRegion);
    P.base = nullptr;
    return;
  }
  P.active = true;
}

}  // namespace

bool active() { return pool().active; }

bool owns(const void* p) { return pool().owns(p); }

size_t blocks_in_use() {
  std::lock_guard lk(pool().mu);
  return pool().in_use;
}

size_t blocks_kept() {
  std::lock_guard lk(pool().mu);
  return pool().kept;
}

}  // namespace net::tls_buffers
