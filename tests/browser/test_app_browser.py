def test_the_server_loaded_every_module_before_the_first_session(app_server):
    process, _ = app_server
    log = process.log_path.read_text()
    assert "Digit Lens: modules loaded in" in log
    assert "could not preload" not in log
