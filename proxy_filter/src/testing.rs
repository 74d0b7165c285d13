//! What the unit tests share.

/// A host that can fetch, with the environment variables given.
pub(crate) struct Fetching(pub &'static [(&'static str, &'static str)]);

impl crate::Env for Fetching {
    fn var(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(variable, _)| *variable == name)
            .map(|(_, value)| (*value).to_owned())
    }

    fn can_fetch(&self) -> bool {
        true
    }
}
