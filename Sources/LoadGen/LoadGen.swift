// The LoadGen module; see DESIGN.md for its room in the suite.
