"""Sources -> bronze: files, databases over JDBC, REST APIs."""
