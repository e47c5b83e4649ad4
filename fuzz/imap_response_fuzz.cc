// Untrusted server bytes never crash the IMAP response parser, and how the bytes are cut into
// reads never changes what is parsed: the whole input fed at once and fed in pieces (sizes taken
// from the input's first byte) give the same responses, or both fail.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "mailstore/imap_response.h"

namespace {

bool Same(const cm::ImapValue& a, const cm::ImapValue& b) {
  if (a.kind != b.kind || a.text != b.text || a.literal != b.literal ||
      a.items.size() != b.items.size())
    return false;
  for (size_t i = 0; i < a.items.size(); ++i) {
    if (!Same(a.items[i], b.items[i])) return false;
  }
  return true;
}

bool Same(const cm::ImapResponse& a, const cm::ImapResponse& b) {
  if (a.kind != b.kind || a.tag != b.tag || a.status != b.status || a.code != b.code ||
      a.code_argument != b.code_argument || a.text != b.text || a.data.size() != b.data.size())
    return false;
  for (size_t i = 0; i < a.data.size(); ++i) {
    if (!Same(a.data[i], b.data[i])) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t piece = 1 + data[0] % 17;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  cm::ImapResponseParser whole(4096), pieces(4096);
  std::vector<cm::ImapResponse> a, b;
  bool whole_ok = whole.Feed(input, a).ok();
  bool pieces_ok = true;
  for (size_t at = 0; at < input.size() && pieces_ok; at += piece)
    pieces_ok = pieces.Feed(input.substr(at, piece), b).ok();
  if (whole_ok != pieces_ok) std::abort();
  if (!whole_ok) return 0;
  if (a.size() != b.size() || whole.pending() != pieces.pending()) std::abort();
  for (size_t i = 0; i < a.size(); ++i) {
    if (!Same(a[i], b[i])) std::abort();
  }
  return 0;
}
