(* The chain rule for networks, and AD is correct at points without kink
   neurons (THEORY.md sections 4 and 6; FORMAL_PLAN.md point 2).  Gradients
   of expressions via the symbolic derivatives dparam/dneuron; if every
   activation sigma_k has derivative sl k at y_k(w), then f is differentiable
   at w with gradient the back-propagation with slopes sl (grad_sl of AD.v),
   the neuron outputs having the forward tangents zdot as gradients and
   forward = reverse (AD.v).  Applied to the choice slopes when K(w) = {}. *)
From Coq Require Import Reals Lra Lia List Arith.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Activation ActDiff Frechet Network AD NoKink.
Import ListNotations.
Open Scope R_scope.

(** * Finite sums *)

Lemma sum_list_map_plus_mul {A : Type} (f1 f2 g : A -> R) (l : list A) :
  sum_list (map (fun i => (f1 i + f2 i) * g i) l) =
  sum_list (map (fun i => f1 i * g i) l) + sum_list (map (fun i => f2 i * g i) l).
Proof. induction l as [|i l IH]; unfold sum_list in *; simpl; [ring|rewrite IH; ring]. Qed.

Lemma sum_list_map_prod_rule {A : Type} (f1 f2 g : A -> R) (c1 c2 : R) (l : list A) :
  sum_list (map (fun i => (f1 i * c2 + c1 * f2 i) * g i) l) =
  c2 * sum_list (map (fun i => f1 i * g i) l) + c1 * sum_list (map (fun i => f2 i * g i) l).
Proof. induction l as [|i l IH]; unfold sum_list in *; simpl; [ring|rewrite IH; ring]. Qed.

(* the sum of an indicator times g over a duplicate-free list containing j *)
Lemma sum_list_map_indicator (l : list nat) (j : nat) (g : nat -> R) :
  NoDup l -> In j l ->
  sum_list (map (fun i => (if Nat.eq_dec j i then 1 else 0) * g i) l) = g j.
Proof.
  induction l as [|i l IH]; intros Hnd Hin; [destruct Hin|].
  inversion Hnd as [|? ? Hni Hnd']; subst; unfold sum_list in *; simpl.
  destruct (Nat.eq_dec j i) as [->|Hne].
  - rewrite (sum_list_map_zero (fun i' => (if Nat.eq_dec i i' then 1 else 0) * g i'));
      [ring|].
    intros i' Hi'; destruct (Nat.eq_dec i i'); [subst; tauto|ring].
  - destruct Hin as [->|Hin]; [tauto|]. rewrite IH by auto; ring.
Qed.

(** * Gradient of an expression *)

Section ExprGrad.
Variables (W : nat) (x : nat -> R) (Z : vec -> nat -> R) (w : vec) (G : nat -> vec) (l : list nat).
Hypothesis Hl : NoDup l.

Definition expr_grad (e : expr) : vec := fun p =>
  eval x w (Z w) (dparam p e) + sum_list (map (fun i => eval x w (Z w) (dneuron i e) * G i p) l).

Lemma eval_differentiable_at (e : expr) :
  params_below W e -> (forall j, occurs_neuron j e -> In j l) ->
  (forall j, occurs_neuron j e -> differentiable_at W (fun v => Z v j) w (G j)) ->
  differentiable_at W (fun v => eval x v (Z v) e) w (expr_grad e).
Proof.
  unfold params_below, expr_grad;
    induction e as [r|q|i|j|e1 IH1 e2 IH2|e1 IH1 e2 IH2]; simpl; intros Hp Hin Hz.
  - eapply differentiable_at_grad_ext; [|apply differentiable_at_const].
    intros p _; rewrite sum_list_map_zero by (intros; ring); unfold vzero; ring.
  - eapply differentiable_at_grad_ext; [|apply differentiable_at_coord, Hp; reflexivity].
    intros p _; rewrite sum_list_map_zero by (intros; ring); unfold unit_vec.
    destruct (Nat.eq_dec p q), (Nat.eq_dec q p); subst; try congruence; ring.
  - eapply differentiable_at_grad_ext; [|apply differentiable_at_const].
    intros p _; rewrite sum_list_map_zero by (intros; ring); unfold vzero; ring.
  - eapply differentiable_at_grad_ext; [|apply Hz; reflexivity].
    intros p _; rewrite sum_list_map_indicator by (auto; apply Hin; reflexivity); ring.
  - eapply differentiable_at_grad_ext; [|apply differentiable_at_plus; [apply IH1|apply IH2]; auto].
    intros p _; unfold vadd; rewrite sum_list_map_plus_mul; ring.
  - eapply differentiable_at_grad_ext; [|apply differentiable_at_mult; [apply IH1|apply IH2]; auto].
    intros p _; unfold vadd, vscale; rewrite sum_list_map_prod_rule; ring.
Qed.

End ExprGrad.

(** * The chain rule through the network *)

Section Chain.
Variables (net : network) (sl : nat -> R) (w : vec).
Hypothesis Hwf : wf net.
Hypothesis Hsl : forall k, (k < n_size net)%nat ->
  is_derive (act_eval (sigma net k)) (preact net w k) (sl k).

(* the gradient of z_k: its forward tangents along the unit vectors *)
Definition post_grad (k : nat) : vec := fun p => zdot net sl w (unit_vec p) k.

Lemma tau_dir_unit (k p : nat) :
  (p < n_params net)%nat -> tau_dir net w (unit_vec p) k = dw_coef net w k p.
Proof. intros Hp; unfold tau_dir; rewrite <- dot_sumn; now apply dot_unit_vec_l. Qed.

Lemma zvec_differentiable_at (j : nat) :
  (j < n_size net)%nat -> differentiable_at (n_params net) (fun v => post net v j) w (post_grad j) ->
  differentiable_at (n_params net) (fun v => zvec net v j) w (post_grad j).
Proof. intros Hj; apply differentiable_at_ext; intros v; now apply zvec_lt. Qed.

Lemma post_differentiable_at_below (n : nat) :
  forall k, (k < n)%nat -> (k < n_size net)%nat ->
  differentiable_at (n_params net) (fun v => post net v k) w (post_grad k).
Proof.
  induction n as [|n IH]; intros k Hk HkN; [lia|].
  destruct (Nat.eq_dec k n) as [->|Hne]; [|apply IH; auto; lia].
  destruct (proj1 Hwf n HkN) as [Hnb Hpb].
  assert (Hy : forall v, preact net v n = eval (n_input net) v (zvec net v) (tau net n))
    by (intros; now apply preact_zvec).
  assert (Hd := eval_differentiable_at (n_params net) (n_input net) (zvec net) w post_grad
                  (seq 0 (n_size net)) (seq_NoDup _ _) (tau net n) Hpb).
  eapply differentiable_at_grad_ext;
    [|apply (differentiable_at_ext _ (fun v => act_eval (sigma net n)
                                        (eval (n_input net) v (zvec net v) (tau net n))));
      [intros v; unfold post; now rewrite Hy|];
      apply differentiable_at_comp_is_derive; [rewrite <- Hy; apply Hsl, HkN|apply Hd]].
  - intros p Hp; unfold vscale, expr_grad, post_grad.
    rewrite zdot_eq by assumption; f_equal; unfold ydot; rewrite tau_dir_unit by exact Hp.
    unfold dw_coef; f_equal; unfold sumn; apply sum_list_map_ext; intros i _.
    unfold dz_coef; ring.
  - intros j Hj; apply in_seq; specialize (Hnb j Hj); lia.
  - intros j Hj; specialize (Hnb j Hj).
    apply zvec_differentiable_at; [lia|]; apply IH; lia.
Qed.

(* f is differentiable at w with gradient the back-propagation with slopes sl *)
Theorem net_differentiable_at_grad_sl :
  differentiable_at (n_params net) (net_eval net) w (grad_sl net sl w).
Proof.
  destruct Hwf as (_ & Hnb & Hpb).
  assert (Hd := eval_differentiable_at (n_params net) (n_input net) (zvec net) w post_grad
                  (seq 0 (n_size net)) (seq_NoDup _ _) (n_out net) Hpb).
  eapply differentiable_at_grad_ext; [|apply Hd].
  - intros p Hp; rewrite <- forward_reverse_unit by assumption.
    unfold fdot, expr_grad, post_grad.
    rewrite <- dot_sumn, dot_unit_vec_l by exact Hp.
    f_equal; unfold sumn; apply sum_list_map_ext; intros i _; ring.
  - intros j Hj; apply in_seq; specialize (Hnb j Hj); lia.
  - intros j Hj; specialize (Hnb j Hj).
    apply zvec_differentiable_at; [lia|]; apply (post_differentiable_at_below (n_size net)); lia.
Qed.

End Chain.

(** * No kink neuron: AD is the gradient, for every choice *)

Theorem no_kink_ad_correct (net : network) (w : vec) (D : nat -> R) :
  wf net -> kink_neurons net w = [] ->
  differentiable_at (n_params net) (net_eval net) w (ad net D w).
Proof.
  intros Hwf Hnil; apply net_differentiable_at_grad_sl; [exact Hwf|].
  intros k Hk; apply act_is_derive_choice_not_kink.
  now apply kink_neurons_nil_not_kink.
Qed.
