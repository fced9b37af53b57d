// Runs before each test file: a fresh wx mock (miniprogram-simulate adds its own stubs later).
const { installWx } = require('./helpers/wx');

installWx();
