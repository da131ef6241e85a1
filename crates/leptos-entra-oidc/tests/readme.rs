//! The README's embedding example is the example the test suite builds, word for word.

#[test]
fn readme_shows_the_built_example() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/minimal.rs");
    assert!(
        readme.contains(example),
        "README.md must quote examples/minimal.rs unchanged"
    );
}
