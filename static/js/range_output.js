// A range input's value shown beside it as it moves: each <output for="id"> follows its input.
document.querySelectorAll("output[for]").forEach((output) => {
  const input = document.getElementById(output.getAttribute("for"));
  if (!input) return;
  input.addEventListener("input", () => { output.textContent = input.value; });
});
