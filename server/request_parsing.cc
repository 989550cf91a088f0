#include "server/request_parsing.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/proto_buffer_writer.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include <map>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/field_parse.h"

namespace recsys {
namespace {

namespace pb = google::protobuf;

// Copies of our schemas with every `string` field made `bytes`, built once
// per message type; their messages parse whatever the strict ones refuse for
// UTF-8 alone.
class LenientSchemas {
 public:
  static LenientSchemas& Get() {
    static auto* schemas = new LenientSchemas;
    return *schemas;
  }

  // A prototype of the lenient copy of `type`, or null when it cannot be
  // built. The prototype lives as long as the process.
  const pb::Message* Prototype(const pb::Descriptor* type)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto it = prototypes_.find(type->full_name());
    if (it != prototypes_.end()) return it->second;
    const pb::Message* prototype = BuildLocked(type);
    prototypes_[type->full_name()] = prototype;
    return prototype;
  }

 private:
  void AddFileLocked(const pb::FileDescriptor* file)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (pool_.FindFileByName(file->name()) != nullptr) return;
    for (int i = 0; i < file->dependency_count(); ++i)
      AddFileLocked(file->dependency(i));
    pb::FileDescriptorProto proto;
    file->CopyTo(&proto);
    for (int i = 0; i < proto.message_type_size(); ++i)
      MakeStringsBytes(proto.mutable_message_type(i));
    pool_.BuildFile(proto);
  }

  static void MakeStringsBytes(pb::DescriptorProto* message) {
    for (int i = 0; i < message->field_size(); ++i) {
      pb::FieldDescriptorProto* field = message->mutable_field(i);
      if (field->type() == pb::FieldDescriptorProto::TYPE_STRING)
        field->set_type(pb::FieldDescriptorProto::TYPE_BYTES);
    }
    for (int i = 0; i < message->nested_type_size(); ++i)
      MakeStringsBytes(message->mutable_nested_type(i));
  }

  const pb::Message* BuildLocked(const pb::Descriptor* type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    AddFileLocked(type->file());
    const pb::Descriptor* lenient =
        pool_.FindMessageTypeByName(type->full_name());
    if (lenient == nullptr) return nullptr;
    return factory_.GetPrototype(lenient);
  }

  absl::Mutex mu_;
  pb::DescriptorPool pool_ ABSL_GUARDED_BY(mu_);
  pb::DynamicMessageFactory factory_ ABSL_GUARDED_BY(mu_){&pool_};
  std::map<std::string, const pb::Message*> prototypes_ ABSL_GUARDED_BY(mu_);
};

// The first field of `lenient` that is a string in `strict` and holds bytes
// that are not UTF-8, as "path: \"escaped\"", or "" when none.
std::string FindBadUtf8(const pb::Message& lenient, const pb::Descriptor* strict,
                        const std::string& prefix) {
  const pb::Reflection* reflection = lenient.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  reflection->ListFields(lenient, &fields);
  for (const pb::FieldDescriptor* field : fields) {
    const pb::FieldDescriptor* strict_field =
        strict->FindFieldByNumber(field->number());
    if (strict_field == nullptr) continue;
    const std::string path =
        prefix.empty() ? field->name() : absl::StrCat(prefix, ".", field->name());
    const int count =
        field->is_repeated() ? reflection->FieldSize(lenient, field) : 1;
    for (int i = 0; i < count; ++i) {
      std::string element_path =
          field->is_repeated() ? absl::StrCat(path, "[", i, "]") : path;
      if (strict_field->type() == pb::FieldDescriptor::TYPE_STRING) {
        std::string scratch;
        const std::string& value =
            field->is_repeated()
                ? reflection->GetRepeatedStringReference(lenient, field, i,
                                                         &scratch)
                : reflection->GetStringReference(lenient, field, &scratch);
        if (!IsValidUtf8(value)) {
          return absl::StrCat(element_path, " is not valid UTF-8: \"",
                              absl::CHexEscape(value.substr(0, 64)),
                              value.size() > 64 ? "...\"" : "\"");
        }
      } else if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
        const pb::Message& child =
            field->is_repeated()
                ? reflection->GetRepeatedMessage(lenient, field, i)
                : reflection->GetMessage(lenient, field);
        // A row's id helps the caller find it: "rows[2] (row_id 17)".
        const pb::FieldDescriptor* row_id =
            child.GetDescriptor()->FindFieldByName("row_id");
        if (row_id != nullptr && !row_id->is_repeated()) {
          const pb::Reflection* r = child.GetReflection();
          if (row_id->cpp_type() == pb::FieldDescriptor::CPPTYPE_UINT64) {
            absl::StrAppend(&element_path, " (row_id ",
                            r->GetUInt64(child, row_id), ")");
          } else if (row_id->cpp_type() == pb::FieldDescriptor::CPPTYPE_INT64) {
            absl::StrAppend(&element_path, " (row_id ",
                            r->GetInt64(child, row_id), ")");
          }
        }
        std::string found =
            FindBadUtf8(child, strict_field->message_type(), element_path);
        if (!found.empty()) return found;
      }
    }
  }
  return "";
}

absl::Status Diagnose(absl::string_view bytes, const pb::Message& strict,
                      absl::string_view what) {
  const pb::Descriptor* type = strict.GetDescriptor();
  const pb::Message* prototype = LenientSchemas::Get().Prototype(type);
  if (prototype != nullptr) {
    std::unique_ptr<pb::Message> lenient(prototype->New());
    if (lenient->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      std::string bad = FindBadUtf8(*lenient, type, "");
      if (!bad.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " is not a valid ", type->full_name(), ": ",
                         bad, " (text fields must be UTF-8)"));
      }
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      what, " is not a valid ", type->full_name(), ": its ", bytes.size(),
      " bytes do not parse as that protocol buffers message (truncated, "
      "corrupt, or another message type)"));
}

}  // namespace

std::string FlattenByteBuffer(const grpc::ByteBuffer& buffer) {
  std::string out;
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

absl::Status SerializeToByteBuffer(const pb::Message& message,
                                   grpc::ByteBuffer* buffer) {
  bool own_buffer = false;
  grpc::Status status = grpc::SerializationTraits<pb::Message>::Serialize(
      message, buffer, &own_buffer);
  if (status.ok()) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("cannot serialize the answer: ", status.error_message()));
}

absl::Status ParseRequestBytes(absl::string_view bytes, pb::Message* message,
                               absl::string_view what) {
  message->Clear();
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is too large to parse"));
  }
  if (message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return absl::OkStatus();
  return Diagnose(bytes, *message, what);
}

absl::Status ParseRequest(const grpc::ByteBuffer& buffer, pb::Message* message,
                          absl::string_view what) {
  return ParseRequestBytes(FlattenByteBuffer(buffer), message, what);
}

absl::StatusOr<int64_t> CountTopLevelField(absl::string_view bytes,
                                           int field_number) {
  using pb::internal::WireFormatLite;
  pb::io::CodedInputStream input(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  int64_t count = 0;
  while (true) {
    // The message may end only between fields.
    if (input.CurrentPosition() == static_cast<int>(bytes.size())) return count;
    const uint32_t tag = input.ReadTag();
    if (tag == 0) break;
    if (WireFormatLite::GetTagFieldNumber(tag) == field_number &&
        WireFormatLite::GetTagWireType(tag) ==
            WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      ++count;
    }
    if (!WireFormatLite::SkipField(&input, tag)) break;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "the message's bytes are not a well-formed protocol buffers stream (at "
      "byte ",
      input.CurrentPosition(), " of ", bytes.size(), ")"));
}

}  // namespace recsys
