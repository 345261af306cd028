//! Files: media to and from x (issue 16). Filled in by the media work.
