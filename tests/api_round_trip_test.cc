// A customer survives the trip through the API unchanged: the real rows read
// by the CSV reader, encoded by the client (client/record_codec.h) and decoded
// by the server (server/record_codec.h), equal the rows read.
#include <filesystem>
#include <string>
#include <vector>

#include "client/record_codec.h"
#include "common/raw_reader.h"
#include "gtest/gtest.h"
#include "server/record_codec.h"

namespace recsys {
namespace {

const std::string kRealDir = RECSYS_SHARED_DIR "/data/real/";

template <typename T>
void ExpectSameField(const RawField<T>& want, const RawField<T>& got,
                     const char* name, int64_t line) {
  EXPECT_EQ(want.state, got.state) << name << " on line " << line;
  if (want.present() && got.present()) {
    EXPECT_TRUE(want.value == got.value) << name << " on line " << line;
  }
}

// Every demographic field (product columns are not part of the API).
void ExpectSameCustomer(const RawRecord& want, const RawRecord& got) {
#define RECSYS_SAME(field) \
  ExpectSameField(want.field, got.field, #field, want.line)
  RECSYS_SAME(fecha_dato);
  RECSYS_SAME(ncodpers);
  RECSYS_SAME(ind_empleado);
  RECSYS_SAME(pais_residencia);
  RECSYS_SAME(sexo);
  RECSYS_SAME(age);
  RECSYS_SAME(fecha_alta);
  RECSYS_SAME(ind_nuevo);
  RECSYS_SAME(antiguedad);
  RECSYS_SAME(indrel);
  RECSYS_SAME(ult_fec_cli_1t);
  RECSYS_SAME(indrel_1mes);
  RECSYS_SAME(tiprel_1mes);
  RECSYS_SAME(indresi);
  RECSYS_SAME(indext);
  RECSYS_SAME(conyuemp);
  RECSYS_SAME(canal_entrada);
  RECSYS_SAME(indfall);
  RECSYS_SAME(tipodom);
  RECSYS_SAME(cod_prov);
  RECSYS_SAME(nomprov);
  RECSYS_SAME(ind_actividad_cliente);
  RECSYS_SAME(renta);
  RECSYS_SAME(segmento);
#undef RECSYS_SAME
}

// Reads `file`, sends each row through both codecs; returns the rows checked.
int64_t RoundTripEveryRow(const std::string& file) {
  auto reader = RawReader::Open(kRealDir + file);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return 0;
  RawRecord record;
  std::vector<RowError> errors;
  int64_t rows = 0;
  while ((*reader)->Next(&record, &errors)) {
    ++rows;
    EXPECT_TRUE(errors.empty()) << errors[0].ToString();
    absl::StatusOr<v1::CustomerRecord> sent = EncodeCustomer(record);
    EXPECT_TRUE(sent.ok()) << sent.status() << " on line " << record.line;
    if (!sent.ok()) break;
    // Through the wire format too.
    v1::CustomerRecord received;
    EXPECT_TRUE(received.ParseFromString(sent->SerializeAsString()));
    absl::StatusOr<RawRecord> decoded = DecodeCustomer(received);
    EXPECT_TRUE(decoded.ok()) << decoded.status() << " on line " << record.line;
    if (!decoded.ok()) break;
    ExpectSameCustomer(record, *decoded);
    if (::testing::Test::HasFailure()) break;  // one row's report is enough
  }
  EXPECT_TRUE((*reader)->status().ok()) << (*reader)->status();
  return rows;
}

class ApiRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kRealDir)) {
      GTEST_SKIP() << "no real rows: " << kRealDir << " is absent";
    }
  }
};

TEST_F(ApiRoundTripTest, EveryRealTestRowComesBackEqual) {
  EXPECT_EQ(RoundTripEveryRow("test_ver2_first38171_excel.csv"), 38171);
}

TEST_F(ApiRoundTripTest, EveryRealTrainRowComesBackEqual) {
  EXPECT_EQ(RoundTripEveryRow("train_ver2_first999.csv"), 999);
}

}  // namespace
}  // namespace recsys
