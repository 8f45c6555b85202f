// The Server module; see DESIGN.md for its room in the suite.
