// ThreadSanitizer builds only (-DRECSYS_TSAN=ON): makes absl::Mutex and
// absl::CondVar visible to TSAN.
//
// Debian's abseil is a shared library built without -fsanitize=thread, so
// TSAN sees none of the synchronization absl::Mutex provides and reports
// every access guarded by one as a data race. This file defines the Mutex
// and CondVar member functions the project (and gRPC, which also uses
// absl::Mutex) call; the executable's definitions take precedence over the
// shared library's. Each forwards to abseil's own implementation (found with
// dlsym(RTLD_NEXT)) and tells TSAN what happened: a lock acquires the
// mutex's synchronization object, an unlock releases it; waits release
// before and acquire after (the mutex is given up while waiting).
//
// absl::Mutex may evaluate a waiter's Condition on the unlocking thread
// inside Unlock(); the unlock therefore releases both before and after the
// real call, so that reads done by those evaluations are ordered before the
// next holder's accesses in nearly all interleavings.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace {

void* RealSymbol(const char* mangled) {
  void* symbol = ::dlsym(RTLD_NEXT, mangled);
  if (symbol == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found in abseil\n", mangled);
    std::abort();
  }
  return symbol;
}

template <typename Fn>
Fn Real(const char* mangled) {
  return reinterpret_cast<Fn>(RealSymbol(mangled));
}

#define RECSYS_REAL(type, mangled) static const auto real = Real<type>(mangled)

using Cond = absl::Condition;

// A Condition that abseil evaluates with the mutex held, but on whichever
// thread it likes (the waiter, or the thread that unlocks): tell TSAN the
// evaluation happens inside the critical section.
struct Annotated {
  const absl::Condition* condition;
  absl::Mutex* mu;

  static bool Eval(Annotated* self) {
    __tsan_acquire(self->mu);
    const bool met = self->condition->Eval();
    __tsan_release(self->mu);
    return met;
  }
  absl::Condition Wrap() { return absl::Condition(&Annotated::Eval, this); }
};

}  // namespace

#if defined(__clang__)
// These are abseil's lock functions themselves: nothing to analyse here.
#pragma clang diagnostic ignored "-Wthread-safety-analysis"
#endif

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  RECSYS_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  real(this);
  __tsan_acquire(this);
}

void Mutex::ReaderLock() {
  RECSYS_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  real(this);
  __tsan_acquire(this);
}

bool Mutex::TryLock() {
  RECSYS_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  RECSYS_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}

void Mutex::Unlock() {
  RECSYS_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  __tsan_release(this);
  real(this);
  __tsan_release(this);
}

void Mutex::ReaderUnlock() {
  RECSYS_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  __tsan_release(this);
  real(this);
  __tsan_release(this);
}

void Mutex::LockWhen(const Condition& cond) {
  RECSYS_REAL(void (*)(Mutex*, const Cond&),
              "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  Annotated annotated{&cond, this};
  real(this, annotated.Wrap());
  __tsan_acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  RECSYS_REAL(void (*)(Mutex*, const Cond&),
              "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  Annotated annotated{&cond, this};
  real(this, annotated.Wrap());
  __tsan_acquire(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  RECSYS_REAL(bool (*)(Mutex*, const Cond&, absl::Duration),
              "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_"
              "9ConditionENS0_8DurationE");
  Annotated annotated{&cond, this};
  const bool met = real(this, annotated.Wrap(), timeout);
  __tsan_acquire(this);
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  RECSYS_REAL(bool (*)(Mutex*, const Cond&, absl::Time),
              "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_"
              "9ConditionENS0_4TimeE");
  Annotated annotated{&cond, this};
  const bool met = real(this, annotated.Wrap(), deadline);
  __tsan_acquire(this);
  return met;
}

void Mutex::Await(const Condition& cond) {
  RECSYS_REAL(void (*)(Mutex*, const Cond&),
              "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  __tsan_release(this);
  Annotated annotated{&cond, this};
  real(this, annotated.Wrap());
  __tsan_acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  RECSYS_REAL(bool (*)(Mutex*, const Cond&, absl::Duration),
              "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_"
              "8DurationE");
  __tsan_release(this);
  Annotated annotated{&cond, this};
  const bool met = real(this, annotated.Wrap(), timeout);
  __tsan_acquire(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  RECSYS_REAL(
      bool (*)(Mutex*, const Cond&, absl::Time),
      "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  __tsan_release(this);
  Annotated annotated{&cond, this};
  const bool met = real(this, annotated.Wrap(), deadline);
  __tsan_acquire(this);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  RECSYS_REAL(void (*)(CondVar*, Mutex*),
              "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  __tsan_release(mu);
  real(this, mu);
  __tsan_acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  RECSYS_REAL(
      bool (*)(CondVar*, Mutex*, absl::Duration),
      "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  __tsan_release(mu);
  const bool timed_out = real(this, mu, timeout);
  __tsan_acquire(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  RECSYS_REAL(
      bool (*)(CondVar*, Mutex*, absl::Time),
      "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  __tsan_release(mu);
  const bool timed_out = real(this, mu, deadline);
  __tsan_acquire(mu);
  return timed_out;
}

ABSL_NAMESPACE_END
}  // namespace absl
