//! Files: media to and from twilio (issue 16). Filled in by the media work.
