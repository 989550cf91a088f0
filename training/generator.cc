#include "training/generator.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/raw_record.h"
#include "common/status_macros.h"
#include "training/gen_customer.h"
#include "training/gen_products.h"
#include "training/gen_random.h"
#include "training/raw_writer.h"

namespace recsys {
namespace {

using gen::CustomerProfile;
using gen::ProductState;

// Appends to a file through a large buffer; reports the first I/O error.
class BufferedFile {
 public:
  static absl::StatusOr<std::unique_ptr<BufferedFile>> Create(
      const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
    }
    return std::unique_ptr<BufferedFile>(new BufferedFile(path, f));
  }
  BufferedFile(const BufferedFile&) = delete;
  BufferedFile& operator=(const BufferedFile&) = delete;
  ~BufferedFile() {
    if (file_ != nullptr) std::fclose(file_);
  }

  // The buffer to append to; call MaybeFlush() after appending.
  std::string* buffer() { return &buffer_; }

  absl::Status MaybeFlush() {
    return buffer_.size() >= kFlushBytes ? Flush() : absl::OkStatus();
  }

  absl::Status Close() {
    RECSYS_RETURN_IF_ERROR(Flush());
    std::FILE* f = file_;
    file_ = nullptr;
    if (std::fclose(f) != 0) return WriteError();
    return absl::OkStatus();
  }

 private:
  static constexpr size_t kFlushBytes = size_t{8} << 20;

  BufferedFile(std::string path, std::FILE* f)
      : path_(std::move(path)), file_(f) {
    buffer_.reserve(kFlushBytes + (size_t{64} << 10));
  }

  absl::Status Flush() {
    if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(),
                                        file_) != buffer_.size()) {
      return WriteError();
    }
    buffer_.clear();
    return absl::OkStatus();
  }

  absl::Status WriteError() const {
    return absl::DataLossError(
        absl::StrCat("cannot write ", path_, ": ", std::strerror(errno)));
  }

  const std::string path_;
  std::FILE* file_;
  std::string buffer_;
};

void AppendProductNames(ProductMask mask, std::string* out) {
  bool first = true;
  for (int i = 0; i < kNumProducts; ++i) {
    if (!(mask & ProductBit(i))) continue;
    if (!first) out->push_back(' ');
    out->append(kProducts[i].column.data(), kProducts[i].column.size());
    first = false;
  }
}

// The real file has "NA" for payroll and pensions_2 in a few rows of later
// months; those products then read as not owned.
ProductMask MissingProducts(uint64_t seed, int64_t index, int month) {
  if (month < 6) return 0;
  gen::Rng rng(gen::StreamSeed(seed, static_cast<uint64_t>(index),
                               static_cast<uint64_t>(month),
                               gen::kStreamMonth) ^
               0x2545f4914f6cdd1dULL);
  return rng.Bernoulli(0.0012) ? ProductBit(21) | ProductBit(22) : 0;
}

absl::Status ValidateOptions(const GeneratorOptions& options) {
  if (options.customers < 1 || options.customers > kMaxGeneratedCustomers) {
    return absl::InvalidArgumentError(
        absl::StrCat("customers must be in 1..", kMaxGeneratedCustomers,
                     ", got ", options.customers));
  }
  if (options.out_dir.empty())
    return absl::InvalidArgumentError("out_dir is empty");
  if (options.extra_months < 0 || options.extra_months > kMaxExtraMonths) {
    return absl::InvalidArgumentError(
        absl::StrCat("extra months must be in 0..", kMaxExtraMonths, ", got ",
                     options.extra_months));
  }
  return absl::OkStatus();
}

// Whether customer `p` has a row (or is stepped) in `month`: in the 18
// months as drawn; after the test month, while it is still a customer then.
bool Simulated(const CustomerProfile& p, int month) {
  const int end = p.end_month >= gen::kNumMonths ? month + 1 : p.end_month;
  return month >= p.first_month && month < end;
}

}  // namespace

std::string ExtraMonthFileName(int month_index) {
  return absl::StrCat("train_", MonthName(month_index), ".csv");
}

absl::Status GenerateDataset(const GeneratorOptions& options,
                             GeneratorSummary* summary) {
  GeneratorSummary counts;
  RECSYS_RETURN_IF_ERROR(ValidateOptions(options));
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create directory ", options.out_dir, ": ", ec.message()));
  }
  const std::filesystem::path dir(options.out_dir);
  RECSYS_ASSIGN_OR_RETURN(
      auto train,
      BufferedFile::Create((dir / std::string(kTrainFileName)).string()));
  RECSYS_ASSIGN_OR_RETURN(
      auto test,
      BufferedFile::Create((dir / std::string(kTestFileName)).string()));
  RECSYS_ASSIGN_OR_RETURN(
      auto truth,
      BufferedFile::Create((dir / std::string(kTruthFileName)).string()));

  const int64_t n = options.customers;
  const uint64_t seed = options.seed;
  std::vector<CustomerProfile> profiles(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) profiles[i] = gen::MakeProfile(seed, i, n);
  std::vector<ProductState> states(static_cast<size_t>(n));
  // Products written for each customer in the last train month (0 when the
  // customer has no row there): the test month's additions are relative to it.
  std::vector<ProductMask> last_written(static_cast<size_t>(n), 0);

  train->buffer()->append(RawHeaderLine(FileLayout::kTrain));
  test->buffer()->append(RawHeaderLine(FileLayout::kTest));
  truth->buffer()->append("ncodpers,added_products,owned_products\n");

  // extra[k]: the train-layout file of month kTestMonth + k.
  std::vector<std::unique_ptr<BufferedFile>> extra;
  for (int k = 0; k < options.extra_months; ++k) {
    const int month_index = gen::MonthDate(gen::kTestMonth + k).MonthIndex();
    RECSYS_ASSIGN_OR_RETURN(
        extra.emplace_back(),
        BufferedFile::Create((dir / ExtraMonthFileName(month_index)).string()));
    extra.back()->buffer()->append(RawHeaderLine(FileLayout::kTrain));
  }
  const int end_month = std::max(gen::kNumMonths,
                                 gen::kTestMonth + options.extra_months);

  const gen::DriftChanges drift;
  RawRecord record;
  RawSpelling spelling;
  if (options.progress != nullptr) {
    options.progress->Start("generate", n * end_month,
                            "customer-months");
  }
  // Appends `record` with products `owned` to the extra month's file.
  auto write_extra = [&](int month, ProductMask owned) -> absl::Status {
    BufferedFile* file = extra[month - gen::kTestMonth].get();
    record.has_products = true;
    record.products_missing = 0;
    record.products = owned;
    AppendRawRow(record, FileLayout::kTrain, spelling, file->buffer());
    ++counts.extra_rows;
    return file->MaybeFlush();
  };
  for (int month = 0; month < end_month; ++month) {
    const bool is_test = month == gen::kTestMonth;
    const bool has_extra = month >= gen::kTestMonth &&
                           month < gen::kTestMonth + options.extra_months;
    if (month > gen::kTestMonth) {  // an extra month only
      for (int64_t i = 0; i < n; ++i) {
        const CustomerProfile& p = profiles[i];
        if (!Simulated(p, month)) continue;
        ProductState& s = states[i];
        gen::StepProducts(p, seed, i, month, &s);
        gen::FillDemographics(p, seed, i, month, s.active, &record, &spelling);
        RECSYS_RETURN_IF_ERROR(write_extra(month, s.owned));
      }
      continue;
    }
    BufferedFile* out = is_test ? test.get() : train.get();
    for (int64_t i = 0; i < n; ++i) {
      if (options.progress != nullptr && i % 16384 == 0) {
        options.progress->Update(
            month * n + i,
            absl::StrCat(counts.train_rows + counts.test_rows, " rows"));
      }
      const CustomerProfile& p = profiles[i];
      if (!Simulated(p, month)) continue;
      ProductState& s = states[i];
      if (month == p.first_month) {
        gen::StartProducts(p, seed, i, month, &s);
      } else {
        gen::StepProducts(p, seed, i, month, &s);
      }
      if (month == p.gap_month) continue;
      gen::FillDemographics(p, seed, i, month, s.active, &record, &spelling);
      if (is_test) {
        if (options.drift) gen::ApplyDrift(drift, seed, i, &record);
        AppendRawRow(record, FileLayout::kTest, spelling, out->buffer());
        ++counts.test_rows;
        if (s.owned & ~last_written[i]) ++counts.test_customers_adding;
        std::string* t = truth->buffer();
        absl::StrAppend(t, p.ncodpers, ",");
        AppendProductNames(s.owned & ~last_written[i], t);
        t->push_back(',');
        AppendProductNames(s.owned, t);
        t->push_back('\n');
        RECSYS_RETURN_IF_ERROR(truth->MaybeFlush());
        if (has_extra) RECSYS_RETURN_IF_ERROR(write_extra(month, s.owned));
      } else {
        record.has_products = true;
        record.products_missing = MissingProducts(seed, i, month);
        record.products = s.owned & ~record.products_missing;
        if (month == gen::kTrainMonths - 1) last_written[i] = record.products;
        AppendRawRow(record, FileLayout::kTrain, spelling, out->buffer());
        ++counts.train_rows;
      }
      RECSYS_RETURN_IF_ERROR(out->MaybeFlush());
    }
  }
  RECSYS_RETURN_IF_ERROR(train->Close());
  RECSYS_RETURN_IF_ERROR(test->Close());
  RECSYS_RETURN_IF_ERROR(truth->Close());
  for (auto& file : extra) RECSYS_RETURN_IF_ERROR(file->Close());
  if (options.progress != nullptr) {
    options.progress->Update(
        n * end_month,
        absl::StrCat(counts.train_rows + counts.test_rows, " rows"));
    options.progress->Finish();
  }
  if (summary != nullptr) *summary = counts;
  return absl::OkStatus();
}

}  // namespace recsys
