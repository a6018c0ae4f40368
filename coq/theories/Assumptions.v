(* Assumptions.v: prints the axioms every theorem of Main.v depends on.
   coq/check_proofs.py compiles this file and fails unless each list is inside
   the allowlist of DEVELOPERS.md (classical reals). Keep one block per theorem
   of Main.v, in the same order. *)
From ADCorrect Require Main.

Goal True. idtac "@@THEOREM format_card". Abort.
Print Assumptions Main.format_card.
Goal True. idtac "@@THEOREM format_card_binary16". Abort.
Print Assumptions Main.format_card_binary16.
Goal True. idtac "@@THEOREM format_card_bfloat16". Abort.
Print Assumptions Main.format_card_bfloat16.
Goal True. idtac "@@THEOREM format_card_binary32". Abort.
Print Assumptions Main.format_card_binary32.
