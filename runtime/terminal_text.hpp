#pragma once

// Text from user space (comm, argv, container ids, host names) made safe
// for a terminal. Pure.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace auditree {

/// Length of the valid UTF-8 sequence at s[i] (1 to 4) with its code point
/// in `cp`, or 0 when the bytes there are not valid UTF-8 (overlong forms,
/// surrogates and code points past U+10FFFF are invalid).
size_t decode_utf8(std::string_view s, size_t i, char32_t& cp);

/// Code points that move the cursor or reorder text when printed although
/// they are valid text: C1 controls (U+0080..U+009F), the bidi marks,
/// embeddings, overrides and isolates (U+061C, U+200E, U+200F,
/// U+202A..U+202E, U+2066..U+2069) and the line and paragraph separators.
bool is_hidden_control(char32_t cp);

/// `text` with every control shown as an escape: C0 bytes, DEL and invalid
/// UTF-8 bytes as `\xNN`, the code points of is_hidden_control as `\uNNNN`
/// (lower-case hex), and `\` itself as `\\`, so that an escape in the
/// output always means the escaped byte. Other UTF-8 passes unchanged.
std::string terminal_safe(std::string_view text);

/// terminal_safe for each line of `text`, its line breaks kept: for a
/// multi-line message (an error body) printed as lines.
std::string terminal_safe_lines(std::string_view text);

/// The first `columns` code points of `text` (whole UTF-8 sequences; an
/// invalid byte counts as one).
std::string_view first_columns(std::string_view text, size_t columns);

/// Code points in `text` (an invalid byte counts as one).
size_t num_columns(std::string_view text);

} // namespace auditree
