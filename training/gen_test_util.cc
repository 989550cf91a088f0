#include "training/gen_test_util.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/products.h"
#include "gtest/gtest.h"
#include "training/generator.h"

namespace recsys::gen::testing {
namespace {

bool Collapses(absl::string_view column) {
  static const std::set<std::string> kFixedWidth = {
      "fecha_dato",     "age",
      "fecha_alta",     "ind_nuevo",
      "antiguedad",     "indrel",
      "ult_fec_cli_1t", "tipodom",
      "cod_prov",       "ind_actividad_cliente"};
  if (absl::StartsWith(column, "ind_") && absl::EndsWith(column, "ult1"))
    return false;
  return kFixedWidth.count(std::string(column)) == 0;
}

char ClassOf(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  if (u >= '0' && u <= '9') return '9';
  if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || u >= 0x80) return 'A';
  return c;
}

ProductMask ParseProductList(absl::string_view text) {
  ProductMask mask = 0;
  for (absl::string_view name : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    const std::optional<int> p = FindProduct(name);
    if (p.has_value()) mask |= ProductBit(*p);
  }
  return mask;
}

}  // namespace

std::vector<std::string> SplitRawFields(absl::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back().push_back(c);
    }
  }
  return fields;
}

std::string ShapeOf(absl::string_view column, absl::string_view text) {
  const bool collapse = Collapses(column);
  std::string shape;
  for (char c : text) {
    const char k = ClassOf(c);
    if (collapse && (k == '9' || k == 'A') && !shape.empty() &&
        shape.back() == k)
      continue;
    shape.push_back(k);
  }
  return shape;
}

std::map<std::string, std::set<std::string>> ColumnShapes(
    const std::string& path) {
  std::map<std::string, std::set<std::string>> shapes;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  if (!std::getline(in, line)) return shapes;
  std::vector<std::string> header = SplitRawFields(line);
  for (std::string& name : header) {
    if (name.size() >= 2 && name.front() == '"')
      name = name.substr(1, name.size() - 2);
  }
  while (std::getline(in, line)) {
    const std::vector<std::string> fields = SplitRawFields(line);
    for (size_t i = 0; i < fields.size() && i < header.size(); ++i) {
      shapes[header[i]].insert(ShapeOf(header[i], fields[i]));
    }
  }
  return shapes;
}

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

ReadBack ReadRawFile(const std::string& path) {
  ReadBack result;
  absl::StatusOr<std::unique_ptr<RawReader>> reader = RawReader::Open(path);
  if (!reader.ok()) {
    result.status = reader.status();
    return result;
  }
  result.layout = (*reader)->layout();
  RawRecord record;
  std::vector<RowError> errors;
  while ((*reader)->Next(&record, &errors)) {
    result.records.push_back(record);
    result.errors.insert(result.errors.end(), errors.begin(), errors.end());
  }
  result.status = (*reader)->status();
  return result;
}

MonthlyProducts ProductsByMonth(const std::vector<RawRecord>& train) {
  MonthlyProducts months;
  for (const RawRecord& r : train) {
    const int month = r.fecha_dato.value.MonthIndex() - 2015 * 12;
    months[month][r.ncodpers.value] = r.products;
  }
  return months;
}

std::vector<TruthRow> ReadTruth(const std::string& path) {
  std::vector<TruthRow> rows;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const std::vector<std::string> fields = absl::StrSplit(line, ',');
    if (fields.size() != 3) continue;
    TruthRow row;
    if (!absl::SimpleAtoi(fields[0], &row.ncodpers)) continue;
    row.added = ParseProductList(fields[1]);
    row.owned = ParseProductList(fields[2]);
    rows.push_back(row);
  }
  return rows;
}

namespace {

// Removes the generated directories when the test binary exits.
struct GeneratedDirs {
  std::map<std::string, std::string> by_name;
  ~GeneratedDirs() {
    for (const auto& [name, dir] : by_name) std::filesystem::remove_all(dir);
  }
};

GeneratedDirs& Dirs() {
  static GeneratedDirs dirs;
  return dirs;
}

}  // namespace

std::string GeneratedDir(const std::string& name, uint64_t seed, bool drift) {
  auto it = Dirs().by_name.find(name);
  if (it != Dirs().by_name.end()) return it->second;
  const std::string dir =
      absl::StrCat(::testing::TempDir(), "/recsys_gen_", name, "_", ::getpid());
  GeneratorOptions options;
  options.customers = kTestCustomers;
  options.seed = seed;
  options.out_dir = dir;
  options.drift = drift;
  const absl::Status status = GenerateDataset(options);
  EXPECT_TRUE(status.ok()) << status;
  Dirs().by_name[name] = dir;
  return dir;
}

std::string PathIn(absl::string_view dir, absl::string_view file) {
  return absl::StrCat(dir, "/", file);
}

const GeneratedData& SeedOneData() {
  static const GeneratedData* data = [] {
    auto* d = new GeneratedData;
    d->dir = GeneratedDir("seed1", 1, false);
    d->train = ReadRawFile(PathIn(d->dir, kTrainFileName));
    d->test = ReadRawFile(PathIn(d->dir, kTestFileName));
    d->months = ProductsByMonth(d->train.records);
    return d;
  }();
  return *data;
}

Additions CountAdditions(const MonthlyProducts& months, int month,
                         int product) {
  Additions result;
  const auto& prev = months.at(month - 1);
  for (const auto& [customer, owned] : months.at(month)) {
    auto it = prev.find(customer);
    if (it == prev.end()) continue;
    ++result.customers;
    const ProductMask added = owned & ~it->second;
    if (product < 0 ? added != 0 : (added & ProductBit(product)) != 0)
      ++result.adding;
  }
  return result;
}

}  // namespace recsys::gen::testing
