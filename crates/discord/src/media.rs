//! Files: media to and from discord (issue 16). Filled in by the media work.
