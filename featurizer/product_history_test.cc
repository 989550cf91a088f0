#include "featurizer/product_history.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "common/fnv.h"
#include "featurizer/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using featurizer_testing::Month;

constexpr ProductMask kA = ProductBit(2);   // current_accounts
constexpr ProductMask kB = ProductBit(12);  // e_account
constexpr ProductMask kC = ProductBit(23);  // direct_debit
const int kJan = Month(2015, 1);

std::unique_ptr<ProductHistoryBuilder> NewBuilder(int depth = 4) {
  auto b = ProductHistoryBuilder::Create({.depth = depth});
  EXPECT_TRUE(b.ok()) << b.status();
  return *std::move(b);
}

// The builder's view of `id` before `month`, which must be answerable.
HistoryView At(const ProductHistoryBuilder& b, int64_t id, int month) {
  absl::StatusOr<HistoryView> v = b.Lookup(id, month);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : HistoryView();
}

// Observes `rows` (ncodpers, owned) in month `month`.
void ObserveMonth(ProductHistoryBuilder* b, int month,
                  std::vector<std::pair<int64_t, ProductMask>> rows) {
  for (auto [id, owned] : rows) ASSERT_TRUE(b->Observe(month, id, owned).ok());
}

// Three months: customer 1 every month, customer 2 in Jan and Mar only.
std::unique_ptr<ProductHistoryBuilder> ThreeMonths() {
  auto b = NewBuilder();
  ObserveMonth(b.get(), kJan, {{1, kA}, {2, kB}});
  ObserveMonth(b.get(), kJan + 1, {{1, kA | kB}});
  ObserveMonth(b.get(), kJan + 2, {{1, kB}, {2, kC}});
  b->EndMonth();
  return b;
}

TEST(ProductHistoryBuilder, DepthOutsideOneToTwelveIsRejected) {
  EXPECT_FALSE(ProductHistoryBuilder::Create({.depth = 0}).ok());
  EXPECT_FALSE(ProductHistoryBuilder::Create({.depth = 13}).ok());
}

TEST(ProductHistoryBuilder, FirstMonthHasNoHistoryInTheData) {
  auto b = NewBuilder();
  ObserveMonth(b.get(), kJan, {{1, kA}});
  HistoryView v = At(*b, 1, kJan);
  EXPECT_FALSE(v.found);
  EXPECT_FALSE(v.InData(1));
  EXPECT_EQ(b->target_month(), kJan);
}

TEST(ProductHistoryBuilder, LookupNeverSeesTheOpenMonth) {
  auto b = NewBuilder();
  ObserveMonth(b.get(), kJan, {{1, kA}});
  ObserveMonth(b.get(), kJan + 1, {{1, kA | kB}});
  HistoryView v = At(*b, 1, kJan + 1);  // history before February
  EXPECT_TRUE(v.Present(1));
  EXPECT_EQ(v.Owned(1), kA);
  EXPECT_FALSE(v.Present(2));
}

TEST(ProductHistoryBuilder, LagsFollowTheMonthsAfterEndMonth) {
  auto b = ThreeMonths();
  EXPECT_EQ(b->target_month(), kJan + 3);
  HistoryView v = At(*b, 1, kJan + 3);
  EXPECT_EQ(v.Owned(1), kB);
  EXPECT_EQ(v.Owned(2), kA | kB);
  EXPECT_EQ(v.Owned(3), kA);
  EXPECT_EQ(v.months_in_data, 0b111);
  EXPECT_EQ(v.first_seen_months_ago, 3);
}

TEST(ProductHistoryBuilder, CustomerWhoLeftAndReturnedIsAbsentInBetween) {
  HistoryView v = At(*ThreeMonths(), 2, kJan + 3);
  EXPECT_TRUE(v.Present(1));
  EXPECT_FALSE(v.Present(2));
  EXPECT_TRUE(v.InData(2));
  EXPECT_TRUE(v.Present(3));
  EXPECT_EQ(v.Owned(3), kB);
}

TEST(ProductHistoryBuilder, CustomerFirstSeenInTheOpenMonthIsNotFound) {
  auto b = NewBuilder();
  ObserveMonth(b.get(), kJan, {{1, kA}});
  ObserveMonth(b.get(), kJan + 1, {{7, kA}});
  EXPECT_FALSE(At(*b, 7, kJan + 1).found);
  EXPECT_TRUE(At(*b, 7, kJan + 1).InData(1));
}

TEST(ProductHistoryBuilder, NextMonthLookupCountsTheOpenMonthAsComplete) {
  auto b = NewBuilder();
  ObserveMonth(b.get(), kJan, {{1, kA}});
  // February's first row, before anything of February is observed.
  HistoryView v = At(*b, 1, kJan + 1);
  EXPECT_TRUE(v.found);
  EXPECT_EQ(v.Owned(1), kA);
}

TEST(ProductHistoryBuilder, LookupBeforeTheOpenMonthIsOutOfRange) {
  auto b = NewBuilder();
  ObserveMonth(b.get(), kJan + 1, {{1, kA}});
  EXPECT_EQ(b->Lookup(1, kJan).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(ProductHistoryBuilder, LookupAtAnyTargetMatchesTheSnapshot) {
  auto b = ThreeMonths();
  auto snapshot = *b->Snapshot();
  for (int target = kJan + 3; target < kJan + 9; ++target) {
    HistoryView v = At(*b, 1, target);
    HistoryView s = *snapshot->Lookup(1, target);
    EXPECT_EQ(v.months_in_data, s.months_in_data) << target;
    EXPECT_EQ(v.present, s.present) << target;
    EXPECT_EQ(v.owned, s.owned) << target;
  }
}

TEST(ProductHistoryBuilder, SkippedMonthIsNotInTheData) {
  auto b = NewBuilder();
  ObserveMonth(b.get(), kJan, {{1, kA}});
  ASSERT_TRUE(b->AdvanceTo(kJan + 2).ok());
  HistoryView v = At(*b, 1, kJan + 2);
  EXPECT_FALSE(v.InData(1));
  EXPECT_TRUE(v.Present(2));
}

TEST(ProductHistoryBuilder, OnlyDepthMonthsAreKept) {
  auto b = NewBuilder(/*depth=*/2);
  ObserveMonth(b.get(), kJan, {{1, kA}});
  ObserveMonth(b.get(), kJan + 1, {{1, kA}});
  ObserveMonth(b.get(), kJan + 2, {{1, kA}});
  b->EndMonth();
  HistoryView v = At(*b, 1, kJan + 3);
  EXPECT_EQ(v.present, 0b11);
  EXPECT_FALSE(v.InData(3));
}

TEST(ProductHistoryBuilder, EarlierMonthIsRejected) {
  auto b = NewBuilder();
  ObserveMonth(b.get(), kJan + 1, {{1, kA}});
  EXPECT_EQ(b->Observe(kJan, 2, kA).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(b->AdvanceTo(kJan + 1).ok());
}

TEST(ProductHistoryBuilder, EndedMonthIsRejected) {
  auto b = NewBuilder();
  ObserveMonth(b.get(), kJan, {{1, kA}});
  b->EndMonth();
  EXPECT_FALSE(b->Observe(kJan, 2, kA).ok());
}

TEST(ProductHistoryBuilder, CustomerTwiceInAMonthIsRejected) {
  auto b = NewBuilder();
  ObserveMonth(b.get(), kJan, {{1, kA}});
  EXPECT_THAT(b->Observe(kJan, 1, kB).message(), ::testing::HasSubstr("twice"));
}

TEST(ProductHistoryBuilder, BadIdOrMaskIsRejected) {
  auto b = NewBuilder();
  EXPECT_FALSE(b->Observe(kJan, -1, kA).ok());
  EXPECT_FALSE(b->Observe(kJan, int64_t{1} << 32, kA).ok());
  EXPECT_FALSE(b->Observe(kJan, 1, ProductBit(24)).ok());
}

TEST(ProductHistorySnapshot, NeedsAnObservedMonth) {
  EXPECT_EQ(NewBuilder()->Snapshot().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ProductHistorySnapshot, AnswersLikeTheBuilderForTheNextMonth) {
  auto b = ThreeMonths();
  auto snapshot = b->Snapshot();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ((*snapshot)->target_month(), kJan + 3);
  for (int64_t id : {1, 2, 3}) {
    auto v = (*snapshot)->Lookup(id, kJan + 3);
    ASSERT_TRUE(v.ok());
    HistoryView expected = At(*b, id, kJan + 3);
    EXPECT_EQ(v->found, expected.found);
    EXPECT_EQ(v->present, expected.present);
    EXPECT_EQ(v->months_in_data, expected.months_in_data);
    EXPECT_EQ(v->owned, expected.owned);
    EXPECT_EQ(v->first_seen_months_ago, expected.first_seen_months_ago);
  }
}

TEST(ProductHistorySnapshot, IncludesTheOpenMonth) {
  auto b = NewBuilder();
  ObserveMonth(b.get(), kJan, {{1, kA}});
  auto v = (*b->Snapshot())->Lookup(1, kJan + 1);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->Owned(1), kA);
}

TEST(ProductHistorySnapshot, UnknownCustomerIsANewCustomer) {
  auto v = (*ThreeMonths()->Snapshot())->Lookup(999, kJan + 3);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->found);
  EXPECT_EQ(v->present, 0);
  EXPECT_TRUE(v->InData(1));
}

TEST(ProductHistorySnapshot, LaterTargetShiftsTheLags) {
  auto v = (*ThreeMonths()->Snapshot())->Lookup(1, kJan + 4);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->InData(1));  // month kJan + 3 was never observed
  EXPECT_FALSE(v->Present(1));
  EXPECT_EQ(v->Owned(2), kB);
  EXPECT_EQ(v->first_seen_months_ago, 4);
}

TEST(ProductHistorySnapshot, EarlierTargetIsOutOfRange) {
  EXPECT_EQ((*ThreeMonths()->Snapshot())->Lookup(1, kJan + 2).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST(ProductHistorySnapshot, SerializeParseRoundTrip) {
  auto snapshot = *ThreeMonths()->Snapshot();
  auto back = ProductHistorySnapshot::Parse(snapshot->Serialize());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)->Serialize(), snapshot->Serialize());
  EXPECT_EQ((*back)->num_customers(), 2);
  EXPECT_EQ((*(*back)->Lookup(2, kJan + 3)).Owned(1), kC);
}

TEST(ProductHistorySnapshot, EveryTruncationIsRejected) {
  const std::string bytes = (*ThreeMonths()->Snapshot())->Serialize();
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::Status s = ProductHistorySnapshot::Parse(bytes.substr(0, n)).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << n << " bytes: " << s;
  }
}

TEST(ProductHistorySnapshot, AnyFlippedByteIsRejected) {
  const std::string bytes = (*ThreeMonths()->Snapshot())->Serialize();
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string corrupt = bytes;
    corrupt[i] ^= 0x20;
    EXPECT_FALSE(ProductHistorySnapshot::Parse(corrupt).ok()) << "byte " << i;
  }
}

// `bytes` with the 4 bytes at `offset` set to `value` and the checksum
// recomputed: a file that is consistent but says something impossible.
std::string WithInt32At(std::string bytes, size_t offset, int32_t value) {
  std::memcpy(&bytes[offset], &value, 4);
  const uint64_t checksum =
      Fnv1a64(absl::string_view(bytes).substr(0, bytes.size() - 8));
  std::memcpy(&bytes[bytes.size() - 8], &checksum, 8);
  return bytes;
}

// Found by fuzz/history_snapshot_fuzz.cc: months outside the calendar were
// accepted, and Lookup() then overflowed computing months ago.
TEST(ProductHistorySnapshot, MonthsOutsideTheCalendarAreRejected) {
  const std::string bytes = (*ThreeMonths()->Snapshot())->Serialize();
  ASSERT_TRUE(ProductHistorySnapshot::Parse(bytes).ok());
  // Header 32 bytes, 2 ids, 2 x 4 month words, then the first-seen months.
  const size_t first_seen_at = 32 + 2 * 4 + 2 * 4 * 4;
  for (int32_t first_seen : {-2147483647, 0, kJan + 3, kJan + 100}) {
    auto parsed = ProductHistorySnapshot::Parse(
        WithInt32At(bytes, first_seen_at, first_seen));
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss)
        << "first seen " << first_seen;
  }
  for (int32_t target : {-2147483647, 2147483647, 0}) {
    auto parsed =
        ProductHistorySnapshot::Parse(WithInt32At(bytes, 12, target));
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss)
        << "target month " << target;
  }
}

// Found by fuzz/history_snapshot_fuzz.cc: HistoryView promises that
// `present` is a subset of `months_in_data`; the file could break it.
TEST(ProductHistorySnapshot, CustomerPresentInAMonthNotInTheDataIsRejected) {
  const std::string bytes = (*ThreeMonths()->Snapshot())->Serialize();
  // months_in_data (offset 20) without lag 3, January, when both customers
  // were present.
  auto parsed = ProductHistorySnapshot::Parse(WithInt32At(bytes, 20, 0b011));
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
}

TEST(ProductHistorySnapshot, OtherFileIsInvalidArgument) {
  EXPECT_EQ(
      ProductHistorySnapshot::Parse("{\"json\": true, \"not\": \"a snapshot\"}")
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(ProductHistorySnapshot, WriteAndLoadFile) {
  const std::string path = ::testing::TempDir() + "/history_test.bin";
  ASSERT_TRUE(ThreeMonths()->WriteSnapshot(path).ok());
  auto loaded = LoadSnapshot(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->target_month(), kJan + 3);
  std::filesystem::resize_file(path, 20);
  EXPECT_EQ(LoadSnapshot(path).status().code(), absl::StatusCode::kDataLoss);
  std::remove(path.c_str());
  EXPECT_EQ(LoadSnapshot(path).status().code(), absl::StatusCode::kNotFound);
}

TEST(ProductHistorySnapshot, MemoryFor950000CustomersIs32BytesEach) {
  constexpr int kCustomers = 950000;
  auto b = NewBuilder(kDefaultHistoryDepth);
  for (int month = 0; month < 2; ++month) {
    for (int i = 0; i < kCustomers; ++i) {
      ASSERT_TRUE(b->Observe(kJan + month, 15889 + 2 * i, kA).ok());
    }
  }
  auto snapshot = *b->Snapshot();
  const double per_customer =
      static_cast<double>(snapshot->MemoryBytes()) / snapshot->num_customers();
  std::cout << "product history snapshot: " << per_customer
            << " bytes/customer, " << snapshot->MemoryBytes() / 1e6
            << " MB for " << kCustomers << " customers (depth "
            << kDefaultHistoryDepth << ")\n";
  RecordProperty("bytes_per_customer", std::to_string(per_customer));
  EXPECT_EQ(per_customer, 4 + 4 * kDefaultHistoryDepth + 4);
  EXPECT_EQ((*snapshot->Lookup(15889 + 2 * 12345, kJan + 2)).Owned(2), kA);
}

}  // namespace
}  // namespace recsys
